#include "http/validation.hpp"

#include "workflows/run_spec.hpp"

#include <algorithm>
#include <cctype>
#include <limits>

namespace pixelcraft::http {

namespace {

using json = nlohmann::json;

const std::vector<std::string> budget_ranges = {"0-1000", "1000-5000", "5000-10000", "10000-25000",
                                                "25000+"};
const std::vector<std::string> timelines = {"immediate", "1-3_months", "3-6_months", "6-12_months",
                                            "unknown"};
const std::vector<std::string> sources = {"contact_form", "strategy_session", "partnership", "chat",
                                          "other"};
const std::vector<std::string> lead_statuses = {"new", "contacted", "qualified", "converted",
                                                "lost"};
const std::vector<std::string> agent_message_types = {"request", "response", "notification",
                                                      "handoff"};

std::string one_of(const std::vector<std::string>& xs) {
  std::string out;
  for (size_t i = 0; i < xs.size(); ++i)
    out += (i ? ", '" : "'") + xs[i] + "'";
  return out;
}

bool contains(const std::vector<std::string>& xs, const std::string& x) {
  return std::find(xs.begin(), xs.end(), x) != xs.end();
}

/// A string field. Returns false (with an error) when invalid; `present` tells if it was set
/// to a non-null value. Trims surrounding whitespace.
bool string_field(const json& obj, const json& loc_base, const char* name, bool required,
                  size_t min_len, size_t max_len, validator& v, std::string& out, bool& present,
                  bool allow_newlines = true) {
  auto loc = loc_base;
  loc.push_back(name);
  present = false;
  if (!obj.contains(name) || obj[name].is_null()) {
    if (required) {
      v.add(loc, "Field required", "missing");
      return false;
    }
    return true;
  }
  const auto& x = obj[name];
  if (!x.is_string()) {
    v.add(loc, "Input should be a valid string", "string_type");
    return false;
  }
  out = trim(x.get<std::string>());
  auto len = utf8_length(out);
  if (len < min_len) {
    v.add(loc,
          "String should have at least " + std::to_string(min_len) + " character" +
              (min_len == 1 ? "" : "s"),
          "string_too_short");
    return false;
  }
  if (len > max_len) {
    v.add(loc, "String should have at most " + std::to_string(max_len) + " characters",
          "string_too_long");
    return false;
  }
  if (has_control_chars(out, allow_newlines)) {
    v.add(loc, "String must not contain control characters", "value_error");
    return false;
  }
  present = true;
  return true;
}

bool enum_field(const json& obj, const json& loc_base, const char* name, bool required,
                const std::vector<std::string>& allowed, validator& v, std::string& out,
                bool& present) {
  auto loc = loc_base;
  loc.push_back(name);
  present = false;
  if (!obj.contains(name) || obj[name].is_null()) {
    if (required)
      v.add(loc, "Field required", "missing");
    return !required;
  }
  if (!obj[name].is_string() || !contains(allowed, obj[name].get<std::string>())) {
    v.add(loc, "Input should be " + one_of(allowed), "enum");
    return false;
  }
  out = obj[name].get<std::string>();
  present = true;
  return true;
}

} // namespace

std::string trim(std::string_view s) {
  auto b = s.find_first_not_of(" \t\r\n\f\v");
  if (b == std::string_view::npos)
    return {};
  auto e = s.find_last_not_of(" \t\r\n\f\v");
  return std::string{s.substr(b, e - b + 1)};
}

std::string lower(std::string_view s) {
  std::string out{s};
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

size_t utf8_length(std::string_view s) {
  return static_cast<size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

bool has_control_chars(std::string_view s, bool allow_whitespace) {
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7F) {
      if (allow_whitespace && (c == '\n' || c == '\r' || c == '\t'))
        continue;
      return true;
    }
    // C1 controls U+0080..U+009F are encoded as C2 80..C2 9F.
    if (c == 0xC2 && i + 1 < s.size()) {
      auto d = static_cast<unsigned char>(s[i + 1]);
      if (d >= 0x80 && d <= 0x9F)
        return true;
    }
  }
  return false;
}

bool is_valid_email(std::string_view s) {
  if (s.size() < 3 || s.size() > 254)
    return false;
  auto at = s.rfind('@');
  if (at == std::string_view::npos || at == 0 || at > 64 || s.find('@') != at)
    return false;
  auto local = s.substr(0, at);
  auto domain = s.substr(at + 1);
  if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos)
    return false;
  static const std::string local_ok = "!#$%&'*+/=?^_`{|}~.-";
  for (unsigned char c : local)
    if (!std::isalnum(c) && local_ok.find(static_cast<char>(c)) == std::string::npos)
      return false;
  if (domain.size() < 3 || domain.find('.') == std::string_view::npos)
    return false;
  size_t start = 0;
  while (start <= domain.size()) {
    auto dot = domain.find('.', start);
    if (dot == std::string_view::npos)
      dot = domain.size();
    auto label = domain.substr(start, dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
      return false;
    for (unsigned char c : label)
      if (!std::isalnum(c) && c != '-')
        return false;
    if (dot == domain.size()) {
      // The top-level label: letters only, at least two.
      if (label.size() < 2 ||
          !std::all_of(label.begin(), label.end(), [](unsigned char c) { return std::isalpha(c); }))
        return false;
      break;
    }
    start = dot + 1;
  }
  return true;
}

bool is_valid_phone(std::string_view s) {
  if (!s.empty() && s.front() == '+')
    s.remove_prefix(1);
  if (s.size() < 3 || s.size() > 40)
    return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || c == ' ' || c == '(' || c == ')' || c == '-' || c == '.';
  });
}

bool is_uuid(std::string_view s) {
  if (s.size() != 36)
    return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-')
        return false;
    } else if (!std::isxdigit(static_cast<unsigned char>(s[i]))) {
      return false;
    }
  }
  return true;
}

body_check check_json_body(std::string_view body) {
  body_check r;
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    r.status = 422;
    r.errors.push_back({{"loc", {"body"}}, {"msg", "Field required"}, {"type", "missing"}});
    return r;
  }
  json_error err = json_error::none;
  r.doc = parse_json(body, client_depth, &err);
  if (err != json_error::none) {
    r.status = 400;
    if (err == json_error::too_deep)
      r.detail = "JSON nested deeper than " + std::to_string(client_depth) + " levels";
    else if (!valid_utf8(body))
      r.detail = "request body is not valid UTF-8";
    else if (body.find('\0') != std::string_view::npos)
      r.detail = "request body is not valid JSON: it contains a NUL byte";
    else
      r.detail = "request body is not valid JSON";
    r.doc = nullptr;
    return r;
  }
  if (!r.doc.is_object()) {
    r.status = 400;
    r.detail = "request body must be a JSON object";
    r.doc = nullptr;
    return r;
  }
  json locs = json::array();
  find_nul_strings(r.doc, json::array({"body"}), locs);
  if (!locs.empty()) {
    r.status = 422;
    for (auto& loc : locs)
      r.errors.push_back({{"loc", std::move(loc)},
                          {"msg", "String must not contain a NUL character (\\u0000)"},
                          {"type", "value_error.nul"}});
    r.doc = nullptr;
  }
  return r;
}

bool storable_text(std::string_view s) {
  return s.find('\0') == std::string_view::npos && valid_utf8(s);
}

void check_query_text(const std::vector<std::pair<std::string, std::string>>& query, validator& v) {
  for (const auto& [name, value] : query) {
    if (!storable_text(name))
      v.add({"query", name}, "Query parameter names must be UTF-8 text without NUL",
            "value_error.query_name");
    else if (!storable_text(value))
      v.add({"query", name}, "Query parameter values must be UTF-8 text without NUL",
            value.find('\0') != std::string::npos ? "value_error.nul" : "value_error.utf8");
  }
}

bool valid_idempotency_key(std::string_view s) {
  return !s.empty() && s.size() <= 255 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x21 && c <= 0x7E; });
}

bool check_json_size(const json& j, const json& loc, size_t limit, validator& v) {
  if (json_size_capped(j, limit) <= limit)
    return true;
  v.add(loc, "Value should have at most " + std::to_string(limit) + " bytes as JSON", "too_long");
  return false;
}

std::string safe_dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

bool validate_lead_request(const json& body, validator& v, lead_submission& out) {
  if (body.contains("analyze") && !body["analyze"].is_null()) {
    if (!body["analyze"].is_boolean())
      v.add({"body", "analyze"}, "Input should be a valid boolean", "bool_type");
    else
      out.analyze = body["analyze"].get<bool>();
  }
  if (!body.contains("lead_data") || body["lead_data"].is_null()) {
    v.add({"body", "lead_data"}, "Field required", "missing");
    return false;
  }
  const auto& d = body["lead_data"];
  if (!d.is_object()) {
    v.add({"body", "lead_data"}, "Input should be a valid object", "dict_type");
    return false;
  }
  json base = {"body", "lead_data"};
  std::string name, email, company, phone, message, budget, timeline, source;
  bool has = false, has_company = false, has_phone = false, has_budget = false,
       has_timeline = false;
  string_field(d, base, "name", true, 1, 200, v, name, has, false);
  if (string_field(d, base, "email", true, 1, 254, v, email, has, false) && has &&
      !is_valid_email(email))
    v.add({"body", "lead_data", "email"}, "value is not a valid email address", "value_error");
  string_field(d, base, "company", false, 0, 200, v, company, has_company, false);
  if (string_field(d, base, "phone", false, 0, 40, v, phone, has_phone, false) && has_phone &&
      !is_valid_phone(phone))
    v.add({"body", "lead_data", "phone"}, "String should match pattern '^\\+?[0-9 ()\\-.]{3,40}$'",
          "string_pattern_mismatch");
  string_field(d, base, "message", true, 1, 10000, v, message, has, true);
  enum_field(d, base, "budget_range", false, budget_ranges, v, budget, has_budget);
  enum_field(d, base, "timeline", false, timelines, v, timeline, has_timeline);
  enum_field(d, base, "source", true, sources, v, source, has);
  std::vector<std::string> services;
  if (d.contains("services_interested") && !d["services_interested"].is_null()) {
    const auto& s = d["services_interested"];
    if (!s.is_array()) {
      v.add({"body", "lead_data", "services_interested"}, "Input should be a valid list",
            "list_type");
    } else if (s.size() > 20) {
      v.add({"body", "lead_data", "services_interested"},
            "List should have at most 20 items after validation, not " + std::to_string(s.size()),
            "too_long");
    } else {
      for (size_t i = 0; i < s.size(); ++i) {
        json loc = {"body", "lead_data", "services_interested", i};
        if (!s[i].is_string()) {
          v.add(loc, "Input should be a valid string", "string_type");
          continue;
        }
        auto item = trim(s[i].get<std::string>());
        if (item.empty() || utf8_length(item) > 100 || has_control_chars(item, false)) {
          v.add(loc, "Service names have 1..100 characters and no control characters",
                "value_error");
          continue;
        }
        services.push_back(item);
      }
    }
  }
  if (!v.ok())
    return false;
  if (has_company && company.empty())
    has_company = false;
  auto opt = [](bool present, const std::string& x) { return present ? json(x) : json(nullptr); };
  out.row = {
      {"name", name},
      {"email", email},
      {"company", opt(has_company, company)},
      {"phone", opt(has_phone && !phone.empty(), phone)},
      {"message", message},
      {"services_interested", services},
      {"budget_range", opt(has_budget, budget)},
      {"timeline", opt(has_timeline, timeline)},
      {"source", source},
  };
  out.signals.budget_range = has_budget ? budget : "";
  out.signals.timeline = has_timeline ? timeline : "";
  out.signals.company = has_company ? company : "";
  out.signals.message = message;
  out.signals.services = services;
  return true;
}

bool validate_lead_patch(const json& body, validator& v, json& patch) {
  patch = json::object();
  bool any = false;
  std::string text;
  bool present = false;
  if (body.contains("status")) {
    any = true;
    if (enum_field(body, {"body"}, "status", false, lead_statuses, v, text, present) && present)
      patch["status"] = text;
    else if (body["status"].is_null())
      v.add({"body", "status"}, "Input should be " + one_of(lead_statuses), "enum");
  }
  if (body.contains("assigned_to")) {
    any = true;
    if (body["assigned_to"].is_null())
      patch["assigned_to"] = nullptr;
    else if (string_field(body, {"body"}, "assigned_to", false, 1, 200, v, text, present, false))
      patch["assigned_to"] = text;
  }
  if (body.contains("notes")) {
    any = true;
    if (string_field(body, {"body"}, "notes", true, 1, 10000, v, text, present, true))
      patch["note"] = text;
  }
  if (body.contains("metadata")) {
    any = true;
    if (!body["metadata"].is_object())
      v.add({"body", "metadata"}, "Input should be a valid object", "dict_type");
    else if (check_json_size(body["metadata"], {"body", "metadata"}, max_free_json_bytes, v))
      patch["metadata"] = body["metadata"];
  }
  if (!any)
    v.add({"body"}, "At least one of 'status', 'assigned_to', 'notes', 'metadata' is required",
          "value_error");
  return v.ok();
}

bool valid_conversation_id(std::string_view s) {
  return !s.empty() && s.size() <= 128 && std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '_' || c == '-';
  });
}

bool validate_chat_request(const json& body, const std::vector<std::string>& agents, validator& v,
                           json& turn) {
  json t = json::object();
  if (!body.contains("message") || body["message"].is_null()) {
    v.add({"body", "message"}, "Field required", "missing");
  } else if (!body["message"].is_string()) {
    v.add({"body", "message"}, "Input should be a valid string", "string_type");
  } else {
    auto m = trim(body["message"].get<std::string>());
    if (m.empty())
      v.add({"body", "message"}, "String should have at least 1 character", "string_too_short");
    else if (utf8_length(m) > 10000)
      v.add({"body", "message"}, "String should have at most 10000 characters", "string_too_long");
    else
      t["message"] = m;
  }
  if (body.contains("conversation_id") && !body["conversation_id"].is_null()) {
    const auto& c = body["conversation_id"];
    if (!c.is_string() || !valid_conversation_id(c.get_ref<const std::string&>()))
      v.add({"body", "conversation_id"}, "String should match pattern '^[A-Za-z0-9_-]{1,128}$'",
            "string_pattern_mismatch");
    else
      t["conversation_id"] = c;
  }
  std::string agent = "chat";
  if (body.contains("agent_type") && !body["agent_type"].is_null()) {
    if (!body["agent_type"].is_string() || !contains(agents, body["agent_type"].get<std::string>()))
      v.add({"body", "agent_type"}, "Input should be the id of an agent from /api/agents", "enum");
    else
      agent = body["agent_type"].get<std::string>();
  }
  t["agent_type"] = agent;
  if (body.contains("context") && !body["context"].is_null()) {
    if (!body["context"].is_object())
      v.add({"body", "context"}, "Input should be a valid object", "dict_type");
    else if (check_json_size(body["context"], {"body", "context"}, max_free_json_bytes, v))
      t["context"] = body["context"];
  }
  if (!v.ok())
    return false;
  t["action"] = "chat";
  turn = std::move(t);
  return true;
}

bool validate_invoke_request(const json& body, validator& v, invoke_request& out) {
  if (!body.contains("agent_type") || !body["agent_type"].is_string())
    v.add({"body", "agent_type"},
          body.contains("agent_type") ? "Input should be a valid string" : "Field required",
          body.contains("agent_type") ? "string_type" : "missing");
  // Sizes first: nothing below copies or prints `input_data` before this (API.md §1 v1.1).
  static const json no_input = json::object();
  const json& input =
      body.contains("input_data") && !body["input_data"].is_null() ? body["input_data"] : no_input;
  if (!input.is_object())
    v.add({"body", "input_data"}, "Input should be a valid object", "dict_type");
  else
    check_json_size(input, {"body", "input_data"}, max_free_json_bytes, v);
  const std::string* conversation = nullptr;
  if (body.contains("conversation_id") && !body["conversation_id"].is_null()) {
    conversation = body["conversation_id"].get_ptr<const std::string*>();
    if (!conversation || !valid_conversation_id(*conversation))
      v.add({"body", "conversation_id"}, "String should match pattern '^[A-Za-z0-9_-]{1,128}$'",
            "string_pattern_mismatch");
  }
  if (!v.ok())
    return false;
  out.agent_type = body["agent_type"].get<std::string>();
  out.input = input;
  out.conversation_id = conversation ? *conversation : std::string{};
  return true;
}

bool invoke_message(const json& input, validator& v, std::string& message) {
  std::string m;
  if (auto it = input.find("message"); it != input.end() && !it->is_null()) {
    if (!it->is_string()) { // optional, but a string when given (API.md §1: a wrong type)
      v.add({"body", "input_data", "message"}, "Input should be a valid string", "string_type");
      return false;
    }
    m = trim(it->get_ref<const std::string&>());
  }
  if (m.empty()) {
    // Compact, and only once the size is known to fit: pretty-printing a nested value grows
    // with depth × size (a 60 KB body cost 4.8 s and 2 GB).
    if (json_size_capped(input, max_invoke_text) > max_invoke_text) {
      v.add({"body", "input_data"}, "Input is too long", "too_long");
      return false;
    }
    m = "Process this input and answer helpfully:\n" + input.dump();
  }
  if (utf8_length(m) > max_invoke_text) {
    v.add({"body", "input_data"}, "Input is too long", "too_long");
    return false;
  }
  message = std::move(m);
  return true;
}

bool validate_workflow_request(const json& body, const std::vector<std::string>& known_agents,
                               validator& v, workflow_submission& out) {
  json spec;
  for (auto& p : workflows::check_run_spec(body, known_agents, spec))
    v.add(std::move(p.loc), std::move(p.msg), std::move(p.type));
  if (body.contains("conversation_id") && !body["conversation_id"].is_null() &&
      (!body["conversation_id"].is_string() ||
       !valid_conversation_id(body["conversation_id"].get_ref<const std::string&>())))
    v.add({"body", "conversation_id"}, "String should match pattern '^[A-Za-z0-9_-]{1,128}$'",
          "string_pattern_mismatch");
  // Routing rules are parsed only for an otherwise valid request.
  if (v.ok())
    for (auto& p : workflows::check_routing(spec))
      v.add(std::move(p.loc), std::move(p.msg), std::move(p.type));
  if (!v.ok())
    return false;
  out.spec = std::move(spec);
  out.conversation_id = body.contains("conversation_id") && body["conversation_id"].is_string()
                            ? body["conversation_id"].get<std::string>()
                            : std::string{};
  return true;
}

bool validate_agent_message(const json& body, const std::vector<std::string>& agents, validator& v,
                            json& msg) {
  for (auto key : {"from_agent", "to_agent"}) {
    if (!body.contains(key) || !body[key].is_string())
      v.add({"body", key}, body.contains(key) ? "Input should be a valid string" : "Field required",
            body.contains(key) ? "string_type" : "missing");
    else if (!contains(agents, body[key].get<std::string>()))
      v.add({"body", key}, "The agent does not take part in this workflow", "value_error");
  }
  if (!body.contains("message_type") || !body["message_type"].is_string() ||
      !contains(agent_message_types, body["message_type"].get<std::string>()))
    v.add({"body", "message_type"},
          "Input should be 'request', 'response', 'notification' or 'handoff'", "enum");
  if (!body.contains("content") || !body["content"].is_object())
    v.add({"body", "content"},
          body.contains("content") ? "Input should be a valid object" : "Field required",
          body.contains("content") ? "dict_type" : "missing");
  else
    check_json_size(body["content"], {"body", "content"}, max_free_json_bytes, v);
  if (body.contains("metadata") && !body["metadata"].is_null()) {
    if (!body["metadata"].is_object())
      v.add({"body", "metadata"}, "Input should be a valid object", "dict_type");
    else
      check_json_size(body["metadata"], {"body", "metadata"}, max_free_json_bytes, v);
  }
  if (!v.ok())
    return false;
  msg = {{"from_agent", body["from_agent"]},
         {"to_agent", body["to_agent"]},
         {"message_type", body["message_type"]},
         {"content", body["content"]},
         {"metadata", body.value("metadata", json::object())}};
  return true;
}

bool validate_state_patch(const json& body, validator& v, std::string& action) {
  static const json no_action = nullptr;
  auto it = body.find("action");
  const json& a = it != body.end() ? *it : no_action;
  if (!a.is_string() || (a != "pause" && a != "resume" && a != "cancel")) {
    v.add({"body", "action"}, "Input should be 'pause', 'resume' or 'cancel'",
          a.is_null() ? "missing" : "enum");
    return false;
  }
  action = a.get<std::string>();
  return true;
}

bool validate_replay_request(const json& body, validator& v, std::string& mode,
                             long long& from_step) {
  auto m = body.find("mode");
  if (m == body.end() || m->is_null())
    v.add({"body", "mode"}, "Field required", "missing");
  else if (!m->is_string() || (*m != "replay" && *m != "fork"))
    v.add({"body", "mode"}, "Input should be 'replay' or 'fork'", "enum");
  bool fork = m != body.end() && *m == "fork";
  auto f = body.find("from_step");
  bool given = f != body.end() && !f->is_null();
  if (given && !f->is_number_integer())
    v.add({"body", "from_step"}, "Input should be a valid integer", "int_type");
  else if (given && (f->get<long long>() < 1 || f->get<long long>() > 1000))
    v.add({"body", "from_step"}, "Input should be between 1 and 1000", "value_error");
  else if (given && !fork && m != body.end() && *m == "replay")
    v.add({"body", "from_step"}, "A replay re-runs every step; from_step applies to a fork",
          "value_error");
  else if (!given && fork)
    v.add({"body", "from_step"}, "Field required for a fork", "missing");
  if (!v.ok())
    return false;
  mode = m->get<std::string>();
  from_step = given ? f->get<long long>() : 0;
  return true;
}

long long query_int(const std::string* raw, const char* name, long long def, long long lo,
                    long long hi, validator& v) {
  if (!raw)
    return def;
  const auto& s = *raw;
  bool digits = !s.empty() && s.size() <= 18 &&
                std::all_of(s.begin() + (s[0] == '-' ? 1 : 0), s.end(),
                            [](unsigned char c) { return std::isdigit(c); }) &&
                s != "-";
  if (!digits) {
    v.add({"query", name}, "Input should be a valid integer", "int_parsing");
    return def;
  }
  auto x = std::stoll(s);
  if (x < lo) {
    v.add({"query", name}, "Input should be greater than or equal to " + std::to_string(lo),
          "greater_than_equal");
    return def;
  }
  if (x > hi) {
    v.add({"query", name}, "Input should be less than or equal to " + std::to_string(hi),
          "less_than_equal");
    return def;
  }
  return x;
}

void read_page(const std::string* limit, const std::string* offset, validator& v, json& args) {
  args["limit"] = query_int(limit, "limit", 50, 1, 100, v);
  args["offset"] = query_int(offset, "offset", 0, 0, std::numeric_limits<int32_t>::max(), v);
}

lead_signals signals_of_lead(const json& lead) {
  return lead_profile_of(lead).signals();
}

} // namespace pixelcraft::http
