#include "integrations/probe_actor.hpp"

#include "actors/errc.hpp"

#include <caf/actor_system.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <curl/curl.h>

#include <memory>
#include <string>

namespace pixelcraft::integrations {

namespace {

constexpr size_t max_body = 256 * 1024;

size_t on_body(char* p, size_t size, size_t n, void* user) {
  auto* out = static_cast<std::string*>(user);
  auto len = size * n;
  if (out->size() + len > max_body)
    return 0; // aborts with CURLE_WRITE_ERROR: the body is larger than any health reply
  out->append(p, len);
  return len;
}

probe_actor::behavior_type prober(probe_actor::pointer self) {
  return {
      [](probe_atom, const std::string& url, const std::string& bearer,
         uint32_t timeout_ms) -> caf::result<int32_t, std::string> {
        std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> h{curl_easy_init(), &curl_easy_cleanup};
        if (!h)
          return caf::make_error(errc::internal, "curl_easy_init failed");
        std::string body;
        curl_slist* headers = nullptr;
        std::string auth;
        if (!bearer.empty()) {
          auth = "Authorization: Bearer " + bearer;
          headers = curl_slist_append(headers, auth.c_str());
        }
        headers = curl_slist_append(headers, "Accept: application/json");
        std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> guard{headers,
                                                                          &curl_slist_free_all};
        curl_easy_setopt(h.get(), CURLOPT_URL, url.c_str());
        curl_easy_setopt(h.get(), CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h.get(), CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(h.get(), CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(h.get(), CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeout_ms));
        curl_easy_setopt(h.get(), CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_ms));
        curl_easy_setopt(h.get(), CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(h.get(), CURLOPT_WRITEFUNCTION, &on_body);
        curl_easy_setopt(h.get(), CURLOPT_WRITEDATA, &body);
        curl_easy_setopt(h.get(), CURLOPT_USERAGENT, "pixelcraft-health/1");
        auto rc = curl_easy_perform(h.get());
        if (rc != CURLE_OK) {
          // curl_easy_strerror never includes headers, so the token cannot leak through it.
          auto why = rc == CURLE_OPERATION_TIMEDOUT ? std::string{"timed out"}
                                                    : std::string{curl_easy_strerror(rc)};
          return caf::make_error(errc::unavailable, why);
        }
        long status = 0;
        curl_easy_getinfo(h.get(), CURLINFO_RESPONSE_CODE, &status);
        return caf::result<int32_t, std::string>{static_cast<int32_t>(status), std::move(body)};
      },
  };
}

} // namespace

void global_init() {
  curl_global_init(CURL_GLOBAL_DEFAULT);
}

probe_actor spawn_probe(caf::actor_system& sys) {
  return sys.spawn<caf::detached>(prober);
}

} // namespace pixelcraft::integrations
