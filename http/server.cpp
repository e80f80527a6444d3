#include "http/server.hpp"

#include <algorithm>
#include <atomic>
#include <future>

#include <openssl/sha.h>
#include <restinio/all.hpp>
#include <restinio/websocket/websocket.hpp>

#include "actors/log.hpp"
#include "http/error_mapping.hpp"

namespace pixelcraft::http {

namespace {

/// RESTinio's logger interface onto ours. Its trace and info lines quote request targets,
/// which may carry a monitor's `?token=`: they are dropped, whatever the log level.
class restinio_logger {
public:
  template <class Builder>
  void trace(Builder&&) const noexcept {
  }
  template <class Builder>
  void info(Builder&&) const noexcept {
  }
  template <class Builder>
  void warn(Builder&& b) const {
    log::warn("pixelcraft.restinio", b());
  }
  template <class Builder>
  void error(Builder&& b) const {
    log::error("pixelcraft.restinio", b());
  }
};

struct traits_t : restinio::default_traits_t {
  using logger_t = restinio_logger;
  static constexpr bool use_connection_count_limiter = true;
};

using chunked_builder = restinio::response_builder_t<restinio::chunked_output_t>;

class stream_impl final : public stream_sink {
public:
  stream_impl(std::shared_ptr<chunked_builder> b, std::function<void()> on_gone)
    : builder_(std::move(b)), on_gone_(std::move(on_gone)) {
  }

  void write(std::string chunk) override {
    if (closed_)
      return;
    try {
      builder_->append_chunk(std::move(chunk));
      builder_->flush([gone = on_gone_](const asio::error_code& ec) {
        if (ec && gone)
          gone();
      });
    } catch (const std::exception& e) {
      closed_ = true;
      if (on_gone_)
        on_gone_();
    }
  }

  void close() override {
    if (closed_)
      return;
    closed_ = true;
    try {
      builder_->done();
    } catch (const std::exception&) {
      // The connection is already gone.
    }
  }

private:
  std::shared_ptr<chunked_builder> builder_;
  std::function<void()> on_gone_;
  bool closed_ = false;
};

namespace rws = restinio::websocket::basic;

class ws_impl final : public ws_session {
public:
  explicit ws_impl(rws::ws_handle_t h) : h_(std::move(h)) {
  }
  ~ws_impl() override {
    try {
      if (h_)
        h_->shutdown();
    } catch (...) {
    }
  }
  void send_text(std::string text) override {
    try {
      if (!h_)
        return;
      auto size = text.size();
      *unsent_ += size;
      // Runs on the I/O thread once the frame is written (or the write failed).
      h_->send_message(rws::final_frame, rws::opcode_t::text_frame, std::move(text),
                       [unsent = unsent_, size](const asio::error_code&) { *unsent -= size; });
    } catch (const std::exception& e) {
      log::debug("pixelcraft.http", "websocket send failed", {{"error", e.what()}});
    }
  }
  size_t unsent_bytes() const override { return *unsent_; }
  void close(uint16_t code, std::string reason) override {
    try {
      if (h_)
        h_->send_message(rws::final_frame, rws::opcode_t::connection_close_frame,
                         rws::status_code_to_bin(static_cast<rws::status_code_t>(code)) + reason);
    } catch (const std::exception&) {
    }
  }

private:
  rws::ws_handle_t h_;
  std::shared_ptr<std::atomic<size_t>> unsent_ = std::make_shared<std::atomic<size_t>>(0);
};

/// Sec-WebSocket-Accept of RFC 6455: base64(SHA-1(key + GUID)).
std::string ws_accept(const std::string& key) {
  auto text = key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  unsigned char md[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(text.data()), text.size(), md);
  static constexpr char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < SHA_DIGEST_LENGTH; i += 3) {
    uint32_t v = md[i] << 16 | (i + 1 < SHA_DIGEST_LENGTH ? md[i + 1] << 8 : 0) |
                 (i + 2 < SHA_DIGEST_LENGTH ? md[i + 2] : 0);
    out += b64[(v >> 18) & 63];
    out += b64[(v >> 12) & 63];
    out += i + 1 < SHA_DIGEST_LENGTH ? b64[(v >> 6) & 63] : '=';
    out += i + 2 < SHA_DIGEST_LENGTH ? b64[v & 63] : '=';
  }
  return out;
}

class sink_impl final : public response_sink {
public:
  explicit sink_impl(restinio::request_handle_t req) : req_(std::move(req)) {
  }

  bool upgrade_websocket(ws_callbacks cb) override {
    auto key = req_->header().opt_value_of(restinio::http_field::sec_websocket_key);
    if (!key || req_->header().connection() != restinio::http_connection_header_t::upgrade)
      return false;
    auto accept = ws_accept(std::string{*key});
    auto& handle = restinio::impl::access_req_connection(*req_);
    auto* con = dynamic_cast<restinio::impl::connection_t<traits_t>*>(handle.get());
    if (!con)
      return false;
    // The connection is idle while an upgrade request waits for its answer; the upgrade
    // itself runs on that connection's executor, not on the calling (CAF) thread.
    asio::post(con->get_executor(), [req = req_, accept, cb]() {
      try {
        auto wsh = rws::upgrade<traits_t>(
          *req, rws::activation_t::immediate, accept,
          [text = cb.text, closed = cb.closed](rws::ws_handle_t h, rws::message_handle_t m) {
            switch (m->opcode()) {
              case rws::opcode_t::text_frame:
              case rws::opcode_t::binary_frame:
                text(m->payload());
                break;
              case rws::opcode_t::ping_frame:
                h->send_message(rws::final_frame, rws::opcode_t::pong_frame, m->payload());
                break;
              case rws::opcode_t::connection_close_frame:
                closed();
                break;
              default:
                break;
            }
          });
        cb.ready(std::make_shared<ws_impl>(std::move(wsh)));
      } catch (const std::exception& e) {
        log::warn("pixelcraft.http", "websocket upgrade failed", {{"error", e.what()}});
        cb.closed();
      }
    });
    return true;
  }

  stream_sink_ptr open_stream(http_response head, std::function<void()> on_gone) override {
    auto b = std::make_shared<chunked_builder>(
      req_->create_response<restinio::chunked_output_t>(restinio::http_status_line_t{
        restinio::http_status_code_t{static_cast<uint16_t>(head.status)},
        reason_phrase(head.status)}));
    for (auto& [k, v] : head.headers)
      b->append_header(k, std::move(v));
    b->flush([gone = on_gone](const asio::error_code& ec) {
      if (ec && gone)
        gone();
    });
    return std::make_shared<stream_impl>(std::move(b), std::move(on_gone));
  }

  void send(http_response r) override {
    try {
      auto resp = req_->create_response(restinio::http_status_line_t{
        restinio::http_status_code_t{static_cast<uint16_t>(r.status)}, reason_phrase(r.status)});
      for (auto& [k, v] : r.headers)
        resp.append_header(k, std::move(v));
      resp.set_body(std::move(r.body));
      resp.done();
    } catch (const std::exception& e) {
      log::warn("pixelcraft.http", "response not sent", {{"error", e.what()}});
    }
  }

private:
  restinio::request_handle_t req_;
};

class server_impl final : public http_server {
public:
  using handle_t = restinio::running_server_handle_t<traits_t>;

  server_impl(handle_t h, uint16_t port) : handle_(std::move(h)), port_(port) {
  }
  ~server_impl() override { stop(); }

  uint16_t port() const override { return port_; }

  // The io_context stays alive (in handle_) until destruction: response sinks still held by
  // actors post their writes to its strands after stop, and a destroyed one hangs or crashes
  // them. Once stopped, those writes are queued and discarded.
  void stop() override {
    if (stopped_)
      return;
    stopped_ = true;
    handle_->stop();
    handle_->wait();
  }

private:
  handle_t handle_;
  uint16_t port_;
  bool stopped_ = false;
};

std::string method_name(const restinio::http_method_id_t& m) {
  return m.c_str();
}

} // namespace

std::unique_ptr<http_server> http_server::start(const server_options& opts, handler h,
                                                std::string& error) {
  auto bound = std::make_shared<std::promise<uint16_t>>();
  auto bound_future = bound->get_future();
  auto on_request = [h = std::move(h)](restinio::request_handle_t req) {
    http_request r;
    r.method = method_name(req->header().method());
    r.target = std::string{req->header().request_target()};
    r.path = std::string{req->header().path()};
    r.query = std::string{req->header().query()};
    r.body = req->body();
    req->header().for_each_field([&r](const restinio::http_header_field_t& f) {
      std::string name{f.name()};
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      r.headers.emplace_back(std::move(name), std::string{f.value()});
    });
    try {
      r.remote_ip = req->remote_endpoint().address().to_string();
    } catch (...) {
      r.remote_ip = "unknown";
    }
    h(std::move(r), std::make_shared<sink_impl>(req));
    return restinio::request_accepted();
  };
  auto hard_body = std::max<uint64_t>(4 * opts.max_body_bytes, 16u << 20);
  auto hard_field = std::max<uint64_t>(8 * opts.max_header_bytes, 64u << 10);
  try {
    auto settings =
      restinio::server_settings_t<traits_t>{}
        .address(opts.host)
        .port(opts.port)
        .handle_request_timeout(opts.handle_timeout)
        .read_next_http_message_timelimit(std::chrono::seconds(60))
        .write_http_response_timelimit(std::chrono::seconds(60))
        .incoming_http_msg_limits(restinio::incoming_http_msg_limits_t{}
                                    .max_url_size(64 * 1024)
                                    .max_field_name_size(8 * 1024)
                                    .max_field_value_size(hard_field)
                                    .max_field_count(400)
                                    .max_body_size(hard_body))
        .max_parallel_connections(opts.max_connections)
        .acceptor_post_bind_hook([bound](asio::ip::tcp::acceptor& a) {
          bound->set_value(a.local_endpoint().port());
        })
        .request_handler(std::move(on_request));
    auto handle = restinio::run_async<traits_t>(restinio::own_io_context(), std::move(settings),
                                                std::max(1u, opts.io_threads));
    if (bound_future.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
      error = "server did not bind within 10 s";
      handle->stop();
      handle->wait();
      return nullptr;
    }
    return std::make_unique<server_impl>(std::move(handle), bound_future.get());
  } catch (const std::exception& e) {
    error = e.what();
    return nullptr;
  }
}

} // namespace pixelcraft::http
