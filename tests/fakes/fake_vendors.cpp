#include "tests/fakes/fake_vendors.hpp"

#include <restinio/all.hpp>

#include <algorithm>
#include <future>
#include <mutex>

namespace pixelcraft::test {

using json = nlohmann::json;

struct fake_vendors::impl {
  using server_t = restinio::running_server_handle_t<restinio::default_traits_t>;
  struct failure {
    std::string method, prefix;
    int status, times, retry_after;
    bool store_first;
    json body;
  };

  std::string crm_key, email_key, calendar_key, calendar_id;
  mutable std::mutex mtx;
  std::vector<vendor_request> log;
  std::vector<failure> failures;
  std::map<std::string, std::string> contacts; ///< email -> id
  json busy_list = json::array();
  json events_by_id = json::object();
  int next_id = 100;
  server_t server;
  uint16_t port = 0;

  using reply_t = std::tuple<int, json, std::map<std::string, std::string>>;

  static std::string decode(const std::string& in) {
    std::string out;
    for (size_t i = 0; i < in.size(); ++i) {
      if (in[i] == '%' && i + 2 < in.size()) {
        out += static_cast<char>(std::stoi(in.substr(i + 1, 2), nullptr, 16));
        i += 2;
      } else {
        out += in[i];
      }
    }
    return out;
  }

  reply_t route(const vendor_request& r, bool& stored) {
    auto path = decode(r.target.substr(0, r.target.find('?')));
    auto auth = r.headers.count("authorization") ? r.headers.at("authorization") : "";
    auto unauthorized = reply_t{401, {{"message", "unauthorized"}}, {}};
    // HubSpot CRM v3.
    if (path.rfind("/crm/v3/", 0) == 0) {
      if (auth != "Bearer " + crm_key)
        return unauthorized;
      if (r.method == "GET" && path == "/crm/v3/objects/contacts")
        return {200, {{"results", json::array()}}, {}};
      if (r.method == "POST" && path == "/crm/v3/objects/contacts") {
        auto email = r.body["properties"].value("email", std::string{});
        if (contacts.count(email))
          return {409,
                  {{"status", "error"},
                   {"category", "CONFLICT"},
                   {"message", "Contact already exists. Existing ID: " + contacts[email]}},
                  {}};
        stored = true;
        auto id = std::to_string(++next_id);
        contacts[email] = id;
        return {201, {{"id", id}, {"properties", r.body["properties"]}}, {}};
      }
      if (r.method == "POST" && path == "/crm/v3/objects/contacts/search") {
        auto email = r.body["filterGroups"][0]["filters"][0].value("value", std::string{});
        json results = json::array();
        if (contacts.count(email))
          results.push_back({{"id", contacts[email]}, {"properties", {{"email", email}}}});
        return {200, {{"total", results.size()}, {"results", results}}, {}};
      }
      if (r.method == "PATCH" && path.rfind("/crm/v3/objects/contacts/", 0) == 0)
        return {200, {{"id", path.substr(25)}, {"properties", r.body["properties"]}}, {}};
      if (r.method == "POST" && path == "/crm/v3/objects/deals") {
        stored = true;
        return {201, {{"id", std::to_string(++next_id)}, {"properties", r.body["properties"]}}, {}};
      }
    }
    // SendGrid v3.
    if (path.rfind("/v3/", 0) == 0) {
      if (auth != "Bearer " + email_key)
        return {401, {{"errors", {{{"message", "authorization required"}}}}}, {}};
      if (r.method == "GET" && path == "/v3/scopes")
        return {200, {{"scopes", {"mail.send"}}}, {}};
      if (r.method == "POST" && path == "/v3/mail/send") {
        stored = true;
        return {202, nullptr, {}};
      }
    }
    // Google Calendar v3.
    if (path.rfind("/calendar/v3/", 0) == 0) {
      if (auth != "Bearer " + calendar_key)
        return {401, {{"error", {{"code", 401}, {"message", "Invalid Credentials"}}}}, {}};
      auto cal_prefix = "/calendar/v3/calendars/" + calendar_id;
      if (r.method == "POST" && path == "/calendar/v3/freeBusy")
        return {
            200,
            {{"kind", "calendar#freeBusy"}, {"calendars", {{calendar_id, {{"busy", busy_list}}}}}},
            {}};
      if (r.method == "GET" && path == cal_prefix)
        return {200, {{"kind", "calendar#calendar"}, {"id", calendar_id}}, {}};
      if (r.method == "POST" && path == cal_prefix + "/events") {
        auto id = r.body.value("id", std::to_string(++next_id));
        if (events_by_id.contains(id))
          return {
              409,
              {{"error", {{"code", 409}, {"message", "The requested identifier already exists."}}}},
              {}};
        stored = true;
        json ev = r.body;
        ev["id"] = id;
        ev["status"] = "confirmed";
        ev["htmlLink"] = "https://calendar.example/event?eid=" + id;
        events_by_id[id] = ev;
        return {200, ev, {}};
      }
      if ((r.method == "PATCH" || r.method == "DELETE") &&
          path.rfind(cal_prefix + "/events/", 0) == 0) {
        auto id = path.substr(cal_prefix.size() + 8);
        if (!events_by_id.contains(id))
          return {404, {{"error", {{"code", 404}, {"message", "Not Found"}}}}, {}};
        stored = true;
        if (r.method == "DELETE") {
          events_by_id.erase(id);
          return {204, nullptr, {}};
        }
        for (auto& [k, v] : r.body.items())
          events_by_id[id][k] = v;
        return {200, events_by_id[id], {}};
      }
      if (r.method == "GET" && path.rfind(cal_prefix + "/events/", 0) == 0) {
        auto id = path.substr(cal_prefix.size() + 8);
        if (!events_by_id.contains(id))
          return {404, {{"error", {{"code", 404}, {"message", "Not Found"}}}}, {}};
        return {200, events_by_id[id], {}};
      }
    }
    return {404, {{"message", "not found"}}, {}};
  }

  restinio::request_handling_status_t handle(restinio::request_handle_t req) {
    vendor_request r;
    r.method = std::string{req->header().method().c_str()};
    r.target = std::string{req->header().request_target()};
    req->header().for_each_field([&r](const auto& f) {
      std::string name{f.name()};
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return std::tolower(c); });
      r.headers[name] = std::string{f.value()};
    });
    r.body = req->body().empty() ? json(nullptr) : json::parse(req->body(), nullptr, false);
    if (r.body.is_discarded())
      r.body = nullptr;
    reply_t reply;
    {
      std::lock_guard<std::mutex> g{mtx};
      log.push_back(r);
      auto path = r.target;
      auto f = std::find_if(failures.begin(), failures.end(), [&](const failure& x) {
        return x.times > 0 && x.method == r.method && path.rfind(x.prefix, 0) == 0;
      });
      bool stored = false;
      if (f != failures.end()) {
        if (f->store_first)
          route(r, stored);
        --f->times;
        std::map<std::string, std::string> h;
        if (f->retry_after >= 0)
          h["Retry-After"] = std::to_string(f->retry_after);
        reply = {f->status, f->body.is_null() ? json{{"message", "scripted failure"}} : f->body, h};
      } else {
        reply = route(r, stored);
      }
    }
    auto& [status, body, headers] = reply;
    auto resp = req->create_response(restinio::http_status_line_t{
        restinio::http_status_code_t{static_cast<uint16_t>(status)}, "Fake"});
    for (auto& [k, v] : headers)
      resp.append_header(k, v);
    if (!body.is_null()) {
      resp.append_header(restinio::http_field::content_type, "application/json");
      resp.set_body(body.dump());
    }
    return resp.done();
  }
};

fake_vendors::fake_vendors(std::string crm_key, std::string email_key, std::string calendar_key,
                           std::string calendar_id)
    : impl_(std::make_unique<impl>()) {
  impl_->crm_key = std::move(crm_key);
  impl_->email_key = std::move(email_key);
  impl_->calendar_key = std::move(calendar_key);
  impl_->calendar_id = std::move(calendar_id);
  std::promise<uint16_t> bound;
  auto fut = bound.get_future();
  auto* self = impl_.get();
  impl_->server = restinio::run_async<restinio::default_traits_t>(
      restinio::own_io_context(),
      restinio::server_settings_t<restinio::default_traits_t>{}
          .address("127.0.0.1")
          .port(0)
          .acceptor_post_bind_hook(
              [&bound](asio::ip::tcp::acceptor& a) { bound.set_value(a.local_endpoint().port()); })
          .request_handler([self](restinio::request_handle_t req) { return self->handle(req); }),
      2);
  impl_->port = fut.get();
}

fake_vendors::~fake_vendors() {
  impl_->server->stop();
  impl_->server->wait();
}

std::string fake_vendors::url() const {
  return "http://127.0.0.1:" + std::to_string(impl_->port);
}

std::vector<vendor_request> fake_vendors::requests() const {
  std::lock_guard<std::mutex> g{impl_->mtx};
  return impl_->log;
}

std::vector<vendor_request> fake_vendors::requests(const std::string& method,
                                                   const std::string& prefix) const {
  std::vector<vendor_request> out;
  for (auto& r : requests())
    if (r.method == method && r.target.rfind(prefix, 0) == 0)
      out.push_back(r);
  return out;
}

void fake_vendors::fail(const std::string& method, const std::string& prefix, int status, int times,
                        int retry_after, bool store_first, json body) {
  std::lock_guard<std::mutex> g{impl_->mtx};
  impl_->failures.push_back(
      {method, prefix, status, times, retry_after, store_first, std::move(body)});
}

void fake_vendors::add_contact(const std::string& email, const std::string& id) {
  std::lock_guard<std::mutex> g{impl_->mtx};
  impl_->contacts[email] = id;
}

void fake_vendors::busy(json intervals) {
  std::lock_guard<std::mutex> g{impl_->mtx};
  impl_->busy_list = std::move(intervals);
}

json fake_vendors::events() const {
  std::lock_guard<std::mutex> g{impl_->mtx};
  return impl_->events_by_id;
}

} // namespace pixelcraft::test
