#include "tests/support/http_client.hpp"

#include <curl/curl.h>

#include <algorithm>

namespace pixelcraft::test {

namespace {

size_t on_body(char* p, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(p, size * n);
  return size * n;
}

size_t on_header(char* p, size_t size, size_t n, void* user) {
  auto* out = static_cast<std::map<std::string, std::string>*>(user);
  std::string line(p, size * n);
  auto colon = line.find(':');
  if (colon != std::string::npos) {
    auto name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    auto value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n'))
      value.pop_back();
    (*out)[name] = value;
  }
  return size * n;
}

struct stream_ctx {
  stream_result* out;
  std::function<bool(const std::string&)> keep_going;
  std::string so_far;
};

size_t on_stream(char* p, size_t size, size_t n, void* user) {
  auto* ctx = static_cast<stream_ctx*>(user);
  std::string piece(p, size * n);
  ctx->out->pieces.emplace_back(std::chrono::steady_clock::now(), piece);
  ctx->so_far += piece;
  if (ctx->keep_going && !ctx->keep_going(ctx->so_far))
    return 0; // hang up
  return size * n;
}

} // namespace

stream_result http_stream(const std::string& url, const std::string& body,
                          const std::vector<std::string>& headers,
                          std::function<bool(const std::string&)> keep_going, long timeout_ms) {
  stream_result r;
  stream_ctx ctx{&r, std::move(keep_going), {}};
  CURL* h = curl_easy_init();
  curl_slist* hs = curl_slist_append(nullptr, "Content-Type: application/json");
  for (const auto& x : headers)
    hs = curl_slist_append(hs, x.c_str());
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hs);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &on_stream);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &ctx);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &r.headers);
  curl_easy_perform(h);
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
  curl_slist_free_all(hs);
  curl_easy_cleanup(h);
  return r;
}

http_result http_call(const std::string& method, const std::string& url, const std::string& body,
                      const std::vector<std::string>& headers, long timeout_ms) {
  http_result r;
  CURL* h = curl_easy_init();
  curl_slist* hs = nullptr;
  bool has_ct = false;
  for (const auto& x : headers) {
    hs = curl_slist_append(hs, x.c_str());
    if (x.rfind("Content-Type:", 0) == 0)
      has_ct = true;
  }
  if (!body.empty() && !has_ct)
    hs = curl_slist_append(hs, "Content-Type: application/json");
  hs = curl_slist_append(hs, "Expect:");
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
  if (method == "HEAD")
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  if (!body.empty() || method == "POST" || method == "PATCH" || method == "PUT") {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hs);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &r.headers);
  auto rc = curl_easy_perform(h);
  if (rc == CURLE_OK)
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
  else
    r.error = curl_easy_strerror(rc);
  curl_slist_free_all(hs);
  curl_easy_cleanup(h);
  return r;
}

} // namespace pixelcraft::test
