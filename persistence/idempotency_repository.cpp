// Idempotency-Key records (API.md §1). A key is claimed before the work and completed after it;
// a claim whose request never finished (crash) can be taken over after a minute.
#include "persistence/detail.hpp"

namespace pixelcraft::persistence::detail {

idempotency_claim idem_begin(pqxx::connection& c, const std::string& scope, const std::string& key,
                             const std::string& hash, int ttl_hours) {
  pqxx::work w{c};
  exec_cached0(w,
               "DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND ("
               " expires_at < now() OR (status_code IS NULL"
               " AND created_at < now() - interval '60 seconds'))",
               scope, key);
  auto claimed = exec_cached(w,
                             "INSERT INTO idempotency_keys (scope, key, request_hash, expires_at)"
                             " VALUES ($1, $2, $3, now() + make_interval(hours => $4))"
                             " ON CONFLICT DO NOTHING RETURNING 1",
                             scope, key, hash, ttl_hours);
  idempotency_claim out;
  if (!claimed.empty()) {
    out.state = "new";
  } else {
    auto r = exec_cached1(w,
                          "SELECT request_hash, status_code, response_body FROM"
                          " idempotency_keys WHERE scope = $1 AND key = $2",
                          scope, key);
    if (r[0].as<std::string>() != hash) {
      out.state = "conflict";
    } else if (r[1].is_null()) {
      out.state = "in_progress";
    } else {
      out.state = "replay";
      out.status = r[1].as<int32_t>();
      out.body = r[2].is_null() ? "" : r[2].as<std::string>();
    }
  }
  w.commit();
  return out;
}

bool idem_end(pqxx::connection& c, const std::string& scope, const std::string& key, int status,
              const std::string& body) {
  pqxx::work w{c};
  exec_cached0(w,
               "UPDATE idempotency_keys SET status_code = $3, response_body = $4"
               " WHERE scope = $1 AND key = $2",
               scope, key, status, body);
  w.commit();
  return true;
}

bool idem_drop(pqxx::connection& c, const std::string& scope, const std::string& key) {
  pqxx::work w{c};
  exec_cached0(w,
               "DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2"
               " AND status_code IS NULL",
               scope, key);
  w.commit();
  return true;
}

} // namespace pixelcraft::persistence::detail
