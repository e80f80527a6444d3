// Each tool is a short chain of vendor calls; `step` makes one and hands its reply on. Every
// refusal ends the chain with an `error` outcome that names the vendor's status and message.
#include "integrations/vendor_tools.hpp"

#include "actors/ids.hpp"
#include "actors/json_limits.hpp"
#include "actors/json_schema.hpp"

#include <cctype>
#include <ctime>
#include <map>
#include <memory>

namespace pixelcraft::integrations {

namespace {

using json = nlohmann::json;

/// One tool call on its way through its vendor calls.
struct chain {
  vendor_call call;
  json args; ///< `call.arguments`, parsed (schema-checked by the tool actor)
  tool_vendor_settings cfg;
  http_fn http;
  std::function<void(vendor_outcome)> done;

  /// One vendor call; its idempotency key follows the tool call, not this attempt.
  void step(const std::string& service, const std::string& method, const std::string& path,
            const json& body, std::function<void(const http_reply&)> next) const {
    http_request r{service, method, path,
                   body.is_null() ? std::string{}
                                  : body.dump(-1, ' ', false, json::error_handler_t::replace),
                   call.execution_id + ":" + method + ":" + path};
    http(std::move(r), [next = std::move(next)](http_reply reply) { next(reply); });
  }

  void success(const json& result) const {
    done({"success", result.dump(-1, ' ', false, json::error_handler_t::replace), {}});
  }

  void failure(const json& result, const std::string& why) const {
    done({"error", result.dump(-1, ' ', false, json::error_handler_t::replace), why});
  }
};

using chain_ptr = std::shared_ptr<const chain>;

std::string text_of(const json& j, const char* key, const std::string& fallback = {}) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : fallback;
}

/// An integer argument: the schema accepts a whole number written as a float (`60.0`).
int int_of(const json& j, const char* key, int fallback) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number())
    return fallback;
  auto v = it->get<double>();
  return v >= -1e9 && v <= 1e9 ? static_cast<int>(v < 0 ? v - 0.5 : v + 0.5) : fallback;
}

/// The vendor's own explanation of a refusal, short.
std::string vendor_message(const json& body) {
  std::string text;
  if (body.is_object()) {
    if (body.contains("message") && body["message"].is_string())
      text = body["message"];
    else if (body.contains("errors") && body["errors"].is_array() && !body["errors"].empty() &&
             body["errors"][0].is_object())
      text = text_of(body["errors"][0], "message");
    else if (body.contains("error") && body["error"].is_object())
      text = text_of(body["error"], "message");
  }
  if (text.size() > 300)
    text.resize(300);
  return text;
}

std::string refused(const char* what, const http_reply& r) {
  return std::string{what} + ": HTTP " + std::to_string(r.status) + " " + vendor_message(r.body);
}

// -- HubSpot --------------------------------------------------------------------------------

void create_deal(const chain_ptr& c, json result, const std::string& contact_id) {
  const auto& a = c->args;
  auto name = text_of(a, "deal_name");
  if (name.empty())
    name = (a.contains("company") ? text_of(a, "company") : text_of(a, "name", "Lead")) + " - " +
           (c->call.tool == "create_marketing_lead" ? "marketing" : "web project");
  json props = {{"dealname", name}, {"pipeline", "default"}, {"dealstage", "appointmentscheduled"}};
  if (a.contains("deal_amount"))
    props["amount"] = a["deal_amount"];
  else if (a.contains("monthly_budget"))
    props["amount"] = a["monthly_budget"];
  json body = {
      {"properties", props},
      {"associations",
       {{{"to", {{"id", contact_id}}},
         {"types", {{{"associationCategory", "HUBSPOT_DEFINED"}, {"associationTypeId", 3}}}}}}}};
  c->step("hubspot", "POST", "/crm/v3/objects/deals", body, [c, result](const http_reply& r) {
    if (r.status != 200 && r.status != 201)
      return c->failure({{"success", false},
                         {"contact_id", result["contact_id"]},
                         {"error", refused("HubSpot refused the deal", r)}},
                        "deal not created");
    auto out = result;
    out["deal_id"] = text_of(r.body, "id");
    c->success(out);
  });
}

void crm_tool(const chain_ptr& c) {
  const auto& a = c->args;
  auto full = text_of(a, "name");
  auto space = full.find(' ');
  json props = {{"email", a["email"]},
                {"firstname", full.substr(0, space)},
                {"lastname", space == std::string::npos ? "" : full.substr(space + 1)}};
  if (a.contains("company"))
    props["company"] = a["company"];
  if (a.contains("phone"))
    props["phone"] = a["phone"];
  bool with_deal = c->call.tool != "sync_lead_to_crm" || a.contains("deal_name");
  auto after_contact = [c, with_deal](const std::string& id, const char* action) {
    json result = {{"success", true}, {"contact_id", id}, {"contact_action", action}};
    if (with_deal)
      return create_deal(c, result, id);
    c->success(result);
  };
  c->step(
      "hubspot", "POST", "/crm/v3/objects/contacts", {{"properties", props}},
      [c, props, after_contact](const http_reply& r) {
        if (r.status == 200 || r.status == 201)
          return after_contact(text_of(r.body, "id"), "created");
        if (r.status != 409)
          return c->failure(
              {{"success", false}, {"error", refused("HubSpot refused the contact", r)}},
              "contact not created");
        // Duplicate: find the contact by e-mail and update it.
        json search = {
            {"filterGroups",
             {{{"filters",
                {{{"propertyName", "email"}, {"operator", "EQ"}, {"value", props["email"]}}}}}}},
            {"properties", {"email"}},
            {"limit", 1}};
        c->step("hubspot", "POST", "/crm/v3/objects/contacts/search", search,
                [c, props, after_contact](const http_reply& found) {
                  const auto& results = found.body.is_object() && found.body.contains("results")
                                            ? found.body["results"]
                                            : json(nullptr);
                  if (found.status != 200 || !results.is_array() || results.empty() ||
                      !results[0].is_object())
                    return c->failure(
                        {{"success", false},
                         {"error", "HubSpot reported a duplicate but the contact was not found"}},
                        "duplicate not found");
                  auto id = text_of(results[0], "id");
                  c->step("hubspot", "PATCH", "/crm/v3/objects/contacts/" + url_encode(id),
                          {{"properties", props}}, [c, id, after_contact](const http_reply& r3) {
                            if (r3.status != 200)
                              return c->failure(
                                  {{"success", false},
                                   {"error", refused("HubSpot refused the update", r3)}},
                                  "contact not updated");
                            after_contact(id, "updated");
                          });
                });
      });
}

// -- SendGrid -------------------------------------------------------------------------------

void email_tool(const chain_ptr& c) {
  const auto& a = c->args;
  std::string to, subject, text;
  if (c->call.tool == "send_marketing_proposal") {
    to = text_of(a, "to_email");
    subject = "Your PixelCraft marketing proposal";
    text = "Hello" + (a.contains("to_name") ? " " + text_of(a, "to_name") : std::string{}) +
           ",\n\n" + text_of(a, "proposal_summary") + "\n\nThe PixelCraft team";
  } else {
    to = c->cfg.email_notify_to;
    auto score = int_of(a, "score", 0);
    subject =
        "Qualified lead: " + text_of(a, "lead_name") + " (score " + std::to_string(score) + ")";
    text = "Lead: " + text_of(a, "lead_name") + " <" + text_of(a, "lead_email") +
           ">\nScore: " + std::to_string(score) + "\n\n" + text_of(a, "summary");
  }
  json body = {{"personalizations", {{{"to", {{{"email", to}}}}}}},
               {"from", {{"email", c->cfg.email_from}, {"name", "PixelCraft"}}},
               {"custom_args", {{"pixelcraft_execution_id", c->call.execution_id}}}};
  if (a.contains("template_id")) {
    // A dynamic template renders subject and body from the data.
    body["template_id"] = a["template_id"];
    body["personalizations"][0]["dynamic_template_data"] = {
        {"name", text_of(a, "to_name")}, {"summary", text_of(a, "proposal_summary")}};
  } else {
    body["subject"] = subject;
    body["content"] = {{{"type", "text/plain"}, {"value", text}}};
  }
  c->step("sendgrid", "POST", "/v3/mail/send", body, [c, to](const http_reply& r) {
    if (r.status != 202 && r.status != 200)
      return c->failure({{"success", false}, {"error", refused("SendGrid refused the email", r)}},
                        "email not sent");
    c->success({{"success", true}, {"status", "queued"}, {"to", to}});
  });
}

// -- Google Calendar ------------------------------------------------------------------------

/// Parses RFC 3339 to unix seconds (offsets applied).
bool to_epoch(const std::string& s, long long& out) {
  if (!is_rfc3339(s))
    return false;
  std::tm tm{};
  tm.tm_year = std::stoi(s.substr(0, 4)) - 1900;
  tm.tm_mon = std::stoi(s.substr(5, 2)) - 1;
  tm.tm_mday = std::stoi(s.substr(8, 2));
  tm.tm_hour = std::stoi(s.substr(11, 2));
  tm.tm_min = std::stoi(s.substr(14, 2));
  tm.tm_sec = std::stoi(s.substr(17, 2));
  out = static_cast<long long>(timegm(&tm));
  auto tz = s.find_first_of("Zz+-", 19);
  if (tz != std::string::npos && (s[tz] == '+' || s[tz] == '-')) {
    long long off = std::stoi(s.substr(tz + 1, 2)) * 3600 + std::stoi(s.substr(tz + 4, 2)) * 60;
    out -= s[tz] == '+' ? off : -off;
  }
  return true;
}

std::string from_epoch(long long t) {
  auto tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

int minutes_of(const json& a, int fallback) {
  return int_of(a, "duration_minutes", fallback);
}

void calendar_tool(const chain_ptr& c) {
  const auto& a = c->args;
  long long start = 0;
  to_epoch(text_of(a, "start_time"), start); // validated by the schema
  int minutes = minutes_of(a, c->call.tool == "schedule_strategy_session" ? 45 : 30);
  auto start_s = from_epoch(start), end_s = from_epoch(start + minutes * 60LL);
  auto cal = url_encode(c->cfg.calendar_id);
  json fb = {{"timeMin", start_s}, {"timeMax", end_s}, {"items", {{{"id", c->cfg.calendar_id}}}}};
  c->step(
      "google_calendar", "POST", "/calendar/v3/freeBusy", fb,
      [c, cal, start_s, end_s](const http_reply& r) {
        if (r.status != 200)
          return c->failure({{"success", false},
                             {"error", refused("Google Calendar refused the free/busy query", r)}},
                            "free/busy failed");
        json busy = json::array();
        const auto& b = r.body;
        if (b.is_object() && b.contains("calendars") && b["calendars"].is_object() &&
            b["calendars"].contains(c->cfg.calendar_id) &&
            b["calendars"][c->cfg.calendar_id].is_object())
          busy = b["calendars"][c->cfg.calendar_id].value("busy", json::array());
        if (!busy.is_array() || !busy.empty())
          return c->failure({{"success", false}, {"error", "slot_unavailable"}, {"busy", busy}},
                            "slot unavailable");
        const auto& a = c->args;
        static const std::map<std::string, std::string> titles = {
            {"schedule_strategy_session", "PixelCraft strategy session"},
            {"schedule_technical_consultation", "PixelCraft technical consultation"},
            {"schedule_qualification_call", "PixelCraft qualification call"}};
        json attendee = {{"email", a["attendee_email"]}};
        if (a.contains("attendee_name"))
          attendee["displayName"] = a["attendee_name"];
        std::string description;
        for (auto key : {"agenda", "topic", "notes"})
          if (a.contains(key))
            description = text_of(a, key);
        // Google accepts a client-chosen id (base32hex: a-v and 0-9): a retried insert cannot
        // duplicate. "pc" and the call id's hex digits stay in that alphabet.
        std::string event_id = "pc";
        for (char ch : c->call.execution_id)
          if (std::isxdigit(static_cast<unsigned char>(ch)))
            event_id += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        json ev = {{"id", event_id},
                   {"summary", titles.at(c->call.tool)},
                   {"description", description},
                   {"start", {{"dateTime", start_s}}},
                   {"end", {{"dateTime", end_s}}},
                   {"attendees", {attendee}}};
        c->step("google_calendar", "POST",
                "/calendar/v3/calendars/" + cal + "/events?sendUpdates=all", ev,
                [c, cal, event_id, start_s, end_s](const http_reply& r2) {
                  auto ok = [c, start_s, end_s](const json& event) {
                    c->success({{"success", true},
                                {"event_id", text_of(event, "id")},
                                {"html_link", text_of(event, "htmlLink")},
                                {"start", start_s},
                                {"end", end_s}});
                  };
                  if (r2.status == 200 || r2.status == 201)
                    return ok(r2.body);
                  if (r2.status != 409)
                    return c->failure({{"success", false},
                                       {"error", refused("Google Calendar refused the event", r2)}},
                                      "event not created");
                  // Already exists: our own earlier attempt. Read it back.
                  c->step("google_calendar", "GET",
                          "/calendar/v3/calendars/" + cal + "/events/" + event_id, nullptr,
                          [c, ok](const http_reply& r3) {
                            if (r3.status != 200)
                              return c->failure({{"success", false},
                                                 {"error", "event exists but could not be read"}},
                                                "event read failed");
                            ok(r3.body);
                          });
                });
      });
}

/// PATCH (reschedule) or DELETE (cancel) an event booked earlier.
void calendar_change_tool(const chain_ptr& c) {
  const auto& a = c->args;
  auto path = "/calendar/v3/calendars/" + url_encode(c->cfg.calendar_id) + "/events/" +
              url_encode(text_of(a, "event_id")) + "?sendUpdates=all";
  if (c->call.tool == "cancel_meeting") {
    return c->step("google_calendar", "DELETE", path, nullptr, [c](const http_reply& r) {
      // 204 is a deletion; 410 means it was already gone: the goal holds.
      if (r.status == 204 || r.status == 200 || r.status == 410)
        return c->success({{"success", true}, {"status", "cancelled"}});
      c->failure(
          {{"success", false}, {"error", refused("Google Calendar refused the cancellation", r)}},
          "event not cancelled");
    });
  }
  long long start = 0;
  to_epoch(text_of(a, "start_time"), start);
  auto minutes = minutes_of(a, 30);
  json body = {{"start", {{"dateTime", from_epoch(start)}}},
               {"end", {{"dateTime", from_epoch(start + minutes * 60LL)}}}};
  c->step("google_calendar", "PATCH", path, body, [c](const http_reply& r) {
    if (r.status != 200)
      return c->failure(
          {{"success", false}, {"error", refused("Google Calendar refused the change", r)}},
          "event not changed");
    auto when = [&r](const char* key) {
      const auto& b = r.body;
      return b.is_object() && b.contains(key) && b[key].is_object() ? text_of(b[key], "dateTime")
                                                                    : std::string{};
    };
    c->success({{"success", true},
                {"event_id", text_of(r.body, "id")},
                {"start", when("start")},
                {"end", when("end")}});
  });
}

using runner = void (*)(const chain_ptr&);

const std::map<std::string, runner>& vendor_tools() {
  static const std::map<std::string, runner> tools = {
      {"create_project_lead", crm_tool},
      {"create_marketing_lead", crm_tool},
      {"sync_lead_to_crm", crm_tool},
      {"send_marketing_proposal", email_tool},
      {"send_qualification_notification", email_tool},
      {"schedule_strategy_session", calendar_tool},
      {"schedule_technical_consultation", calendar_tool},
      {"schedule_qualification_call", calendar_tool},
      {"reschedule_meeting", calendar_change_tool},
      {"cancel_meeting", calendar_change_tool},
  };
  return tools;
}

} // namespace

bool is_vendor_tool(const std::string& tool) {
  return vendor_tools().count(tool) != 0;
}

bool run_vendor_tool(const vendor_call& call, const tool_vendor_settings& cfg, const http_fn& http,
                     std::function<void(vendor_outcome)> done) {
  auto it = vendor_tools().find(call.tool);
  if (it == vendor_tools().end())
    return false;
  auto args = parse_json(call.arguments); // checked against the tool's schema by the tool actor
  if (!args.is_object())
    args = nlohmann::json::object();
  it->second(
      std::make_shared<const chain>(chain{call, std::move(args), cfg, http, std::move(done)}));
  return true;
}

} // namespace pixelcraft::integrations
