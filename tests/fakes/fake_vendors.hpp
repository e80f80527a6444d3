#pragma once
/// Fake HubSpot (CRM v3), SendGrid (v3 mail) and Google Calendar (v3) on 127.0.0.1 port 0,
/// speaking the vendors' wire formats. Each service checks `Authorization: Bearer <key>`.
/// Records every request; failures can be scripted per route.

#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace pixelcraft::test {

struct vendor_request {
  std::string method;
  std::string target;                         ///< path and query
  std::map<std::string, std::string> headers; ///< lower-case names
  nlohmann::json body;                        ///< null when empty or not JSON
};

class fake_vendors {
public:
  /// Keys each service accepts.
  fake_vendors(std::string crm_key, std::string email_key, std::string calendar_key,
               std::string calendar_id);
  ~fake_vendors();

  std::string url() const;
  std::vector<vendor_request> requests() const;
  /// Requests whose target starts with `prefix` (e.g. "POST /v3/mail/send").
  std::vector<vendor_request> requests(const std::string& method, const std::string& prefix) const;

  /// The next `times` requests to `method` + path prefix answer `status` (with `Retry-After`
  /// when >= 0). With `store_first`, the request takes effect before the failure is sent (a
  /// lost response). `body` is the answer's JSON body (null: `{"message": "scripted failure"}`),
  /// e.g. text an attacker planted in a vendor's reply.
  void fail(const std::string& method, const std::string& prefix, int status, int times,
            int retry_after = -1, bool store_first = false, nlohmann::json body = nullptr);
  /// Seeds a HubSpot contact (so creating it again is a 409).
  void add_contact(const std::string& email, const std::string& id);
  /// Busy intervals returned by free/busy.
  void busy(nlohmann::json intervals);
  /// Events stored in the calendar, by id.
  nlohmann::json events() const;

  struct impl;

private:
  std::unique_ptr<impl> impl_;
};

/// The keys and calendar the tool tests configure the fake vendors with.
namespace vendor_keys {
inline const std::string crm = "hubspot-secret-key-123";
inline const std::string email = "SG.sendgrid-secret-key-456";
inline const std::string calendar = "ya29.calendar-token-789";
inline const std::string calendar_id = "team@pixelcraft.example";
} // namespace vendor_keys

/// The environment that points every integration at `vendors` with `vendor_keys` (API.md §9,
/// §10), the company's sender being `hello@pixelcraft.example`.
inline std::map<std::string, std::string> vendor_env(const fake_vendors& vendors) {
  return {{"CRM_API_KEY", vendor_keys::crm},          {"CRM_API_URL", vendors.url()},
          {"EMAIL_API_KEY", vendor_keys::email},      {"EMAIL_API_URL", vendors.url()},
          {"EMAIL_FROM", "hello@pixelcraft.example"}, {"CALENDAR_API_KEY", vendor_keys::calendar},
          {"CALENDAR_API_URL", vendors.url()},        {"CALENDAR_ID", vendor_keys::calendar_id}};
}

} // namespace pixelcraft::test
