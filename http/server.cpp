#include "http/server.hpp"

#include "actors/ids.hpp"
#include "actors/log.hpp"
#include "http/error_mapping.hpp"
#include "http/validation.hpp"

#include <openssl/sha.h>
#include <restinio/all.hpp>
#include <restinio/websocket/websocket.hpp>
#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <future>
#include <mutex>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace pixelcraft::http {

namespace {

/// RESTinio's logger interface onto ours. Its trace and info lines quote request targets,
/// which may carry a monitor's `?token=`: they are dropped, whatever the log level.
class restinio_logger {
public:
  template <class Builder> void trace(Builder&&) const noexcept {}
  template <class Builder> void info(Builder&&) const noexcept {}
  template <class Builder> void warn(Builder&& b) const { log::warn("pixelcraft.restinio", b()); }
  template <class Builder> void error(Builder&& b) const { log::error("pixelcraft.restinio", b()); }
};

struct traits_t : restinio::default_traits_t {
  using logger_t = restinio_logger;
  static constexpr bool use_connection_count_limiter = true;
};

namespace rws = restinio::websocket::basic;

/// Serialises every call on one RESTinio `ws_t`: it is not thread-safe (shutdown() resets the
/// connection handle that send_message() reads), and the session is used from CAF threads (the
/// hub sends and closes) and from the I/O thread (pongs, activation).
using ws_lock = std::shared_ptr<std::mutex>;

/// What a monitor's WebSocket does with each frame from the client: text goes to the hub, a
/// ping is answered, a close (real or synthetic, e.g. after a 1009) ends the session. A named
/// type so that the frame-length check below can specialise RESTinio's connection for it.
struct ws_frame_handler {
  std::function<void(std::string)> text;
  std::function<void()> closed;
  ws_lock lock;
  void operator()(rws::ws_handle_t h, rws::message_handle_t m) const {
    switch (m->opcode()) {
    case rws::opcode_t::text_frame:
    case rws::opcode_t::binary_frame:
      text(m->payload());
      break;
    case rws::opcode_t::ping_frame: {
      std::lock_guard guard{*lock};
      h->send_message(rws::final_frame, rws::opcode_t::pong_frame, m->payload());
      break;
    }
    case rws::opcode_t::connection_close_frame:
      closed();
      break;
    default:
      break;
    }
  }
};

/// Largest WebSocket frame a client may send (API.md §8); a longer declared length is 1009.
constexpr uint64_t max_ws_frame_bytes = 64 * 1024;
/// Requests of one connection received and not yet answered. Each holds its body (up to
/// `max_body_bytes`), so this multiplies what one connection can make us hold.
constexpr size_t max_pipelined = 4;
/// After an early answer (413, 431, 503, ...) we stop sending, then read and discard what the
/// client still sends for a moment, so its kernel does not turn our answer into a reset.
constexpr size_t linger_max_bytes = 1 << 20;
constexpr auto linger_max_time = std::chrono::seconds(2);

/// Who may open a connection: the process-wide and per-client caps (API.md §1). A slot is a
/// token held by the connection's lifetime monitor, so it is released when the connection (or
/// the WebSocket it became) is destroyed, however it ends.
class admission_control {
public:
  struct slot {
    slot(std::shared_ptr<admission_control> o, std::string c)
        : owner(std::move(o)), client(std::move(c)) {}
    ~slot() { owner->release(client); }
    std::shared_ptr<admission_control> owner;
    std::string client;
  };

  admission_control(size_t total, size_t per_client) : max_total_(total), max_client_(per_client) {}

  /// A slot, or nullptr when either cap is reached.
  static std::shared_ptr<slot> acquire(const std::shared_ptr<admission_control>& self,
                                       const std::string& client) {
    std::lock_guard<std::mutex> lock{self->mu_};
    if (self->total_ >= self->max_total_)
      return nullptr;
    auto& n = self->per_client_[client];
    if (n >= self->max_client_)
      return nullptr;
    ++n;
    ++self->total_;
    return std::make_shared<slot>(self, client);
  }

private:
  void release(const std::string& client) {
    std::lock_guard<std::mutex> lock{mu_};
    --total_;
    auto it = per_client_.find(client);
    if (it != per_client_.end() && --it->second == 0)
      per_client_.erase(it);
  }

  std::mutex mu_;
  size_t total_ = 0;
  const size_t max_total_;
  const size_t max_client_;
  std::unordered_map<std::string, size_t> per_client_;
};

/// Open while the server's acceptor (and the connection limiter inside it) exists. Closed, under
/// `m`, before the server stops; connection monitors decrement the limiter only while it is open.
struct limiter_gate {
  std::mutex m;
  bool open = true;
  void close() {
    std::lock_guard lock{m};
    open = false;
  }
};

/// The server's transport settings that RESTinio has no slot for, read by the connection
/// specialisations below. One HTTP server per process (app/ starts one).
struct transport_settings {
  std::shared_ptr<admission_control> admission;
  std::shared_ptr<limiter_gate> gate = std::make_shared<limiter_gate>();
  std::chrono::steady_clock::duration body_timelimit = std::chrono::seconds(60);
  uint64_t max_body_bytes = 1 << 20;
};
std::shared_ptr<const transport_settings> g_transport; // written once, before the first accept

/// RESTinio's lifetime monitor (its hard connection cap) plus our admission slot.
///
/// RESTinio's own monitor decrements the limiter, which lives inside the acceptor, whenever a
/// connection dies; but connections outlive the acceptor (handlers still queued when the
/// io_context is destroyed, sinks held by actors), and that decrement is a use after free. This
/// one goes through the server's gate: once the server stops, the gate closes and late
/// connections leave the (possibly destroyed) limiter alone.
class lifetime_monitor {
public:
  using limiter_t =
      restinio::connection_count_limits::connection_count_limiter_t<traits_t::strand_t>;
  explicit lifetime_monitor(restinio::not_null_pointer_t<limiter_t> limiter)
      : limiter_(limiter), gate_(g_transport ? g_transport->gate : nullptr) {
    limiter_->increment_parallel_connections(); // on the acceptor's strand: the limiter lives
  }
  lifetime_monitor(lifetime_monitor&& o) noexcept
      : slot(std::move(o.slot)), limiter_(std::exchange(o.limiter_, nullptr)),
        gate_(std::move(o.gate_)) {}
  lifetime_monitor& operator=(lifetime_monitor&& o) noexcept {
    lifetime_monitor tmp{std::move(o)};
    std::swap(slot, tmp.slot);
    std::swap(limiter_, tmp.limiter_);
    std::swap(gate_, tmp.gate_);
    return *this;
  }
  lifetime_monitor(const lifetime_monitor&) = delete;
  lifetime_monitor& operator=(const lifetime_monitor&) = delete;
  ~lifetime_monitor() {
    if (limiter_ == nullptr || gate_ == nullptr)
      return;
    std::lock_guard lock{gate_->m};
    if (gate_->open)
      limiter_->decrement_parallel_connections();
  }

  std::shared_ptr<admission_control::slot> slot;

private:
  limiter_t* limiter_;
  std::shared_ptr<limiter_gate> gate_;
};

/// A complete HTTP/1.1 response that closes the connection, written straight to the socket.
std::string raw_response(int status, const std::string& detail, bool retry_after) {
  auto body = "{\"detail\":\"" + detail + "\"}";
  std::string r = "HTTP/1.1 " + std::to_string(status) + " " + reason_phrase(status) + "\r\n";
  r += "Content-Type: application/json\r\n";
  r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  r += "X-Correlation-ID: " + random_uuid() + "\r\n";
  if (retry_after)
    r += "Retry-After: 1\r\n";
  r += "Connection: close\r\n\r\n";
  return r + body;
}

/// Writes `response`, stops sending, drains what the peer still sends (bounded in bytes and
/// time), then calls `done` once. Runs on the connection's executor; `keep` holds it alive.
template <class Socket, class Executor>
void answer_and_linger(Socket& sock, Executor ex, std::string response, std::shared_ptr<void> keep,
                       std::function<void()> done) {
  // Every pending operation holds `state` and nothing else does: when the io_context is
  // destroyed with one pending, the state (and the connection it keeps) goes with it.
  struct state : std::enable_shared_from_this<state> {
    state(Socket& s, Executor e) : sock(s), ex(std::move(e)), timer(ex) {}
    Socket& sock;
    Executor ex;
    asio::steady_timer timer;
    std::string out;
    std::array<char, 4096> buf{};
    size_t drained = 0;
    bool finished = false;
    std::function<void()> done;
    std::shared_ptr<void> keep;
    void finish() {
      if (finished)
        return;
      finished = true;
      timer.cancel();
      done();
    }
    void drain() {
      sock.async_read_some(asio::buffer(buf),
                           asio::bind_executor(ex, [self = this->shared_from_this()](
                                                       const asio::error_code& e, size_t n) {
                             self->drained += n;
                             if (e || self->finished || self->drained > linger_max_bytes)
                               return self->finish();
                             self->drain();
                           }));
    }
  };
  auto st = std::make_shared<state>(sock, ex);
  st->out = std::move(response);
  st->done = std::move(done);
  st->keep = std::move(keep);
  st->timer.expires_after(linger_max_time);
  st->timer.async_wait(asio::bind_executor(ex, [st](const asio::error_code& ec) {
    if (!ec)
      st->finish();
  }));
  asio::async_write(sock, asio::buffer(st->out),
                    asio::bind_executor(ex, [st](const asio::error_code& ec, size_t) {
                      if (ec || st->finished)
                        return st->finish();
                      asio::error_code ignored;
                      st->sock.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
                      st->drain();
                    }));
}

/// The answer to an HTTP parser error: a size limit gets its status (API.md §1), anything else
/// is a malformed request.
std::pair<int, std::string> parser_error_answer(http_errno err, uint64_t max_body) {
  switch (err) {
  case HPE_CB_url:
    return {414, "request URI too long"};
  case HPE_CB_header_field:
  case HPE_CB_header_value:
  case HPE_HEADER_OVERFLOW:
    return {431, "request headers are too large"};
  case HPE_CB_headers_complete:
  case HPE_CB_body:
    return {413, "request body exceeds " + std::to_string(max_body) + " bytes"};
  default:
    return {400, "malformed HTTP request"};
  }
}

/// Whether `name` is a field name (RFC 9110 §5.1: a token). The packaged http-parser is built
/// lenient and keeps white space in a name, and still reads `Content-Length : 5` as a length;
/// a proxy in front of us may drop that line and read the body as the next request.
bool is_field_name(std::string_view name) {
  static constexpr std::string_view extra = "!#$%&'*+-.^_`|~";
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || extra.find(c) != std::string_view::npos;
  });
}

} // namespace
} // namespace pixelcraft::http

// Transport behaviour RESTinio 0.6.16 has no setting for, as explicit specialisations of its
// connection members for our traits (STACK.md §5: limits drop the connection with no status,
// the connection limiter stops accepting, WebSocket frames are allocated at their declared
// length). Each body is RESTinio's own with the marked additions; they must be declared before
// anything below instantiates the templates.
namespace restinio {

template <> struct connection_count_limit_types<pixelcraft::http::traits_t> {
  using limiter_t = pixelcraft::http::lifetime_monitor::limiter_t;
  using lifetime_monitor_t = pixelcraft::http::lifetime_monitor;
};

namespace impl {

// Added: a failed accept (EMFILE, ENFILE, ENOBUFS, ...) gives back its slot in the connection
// limiter and accepting goes on 100 ms later; RESTinio stops accepting on that socket for good.
template <>
inline void acceptor_t<pixelcraft::http::traits_t>::call_accept_now(std::size_t index) noexcept {
  m_acceptor.async_accept(
      this->socket(index).lowest_layer(),
      asio_ns::bind_executor(get_executor(), [index, ctx = this->shared_from_this()](
                                                 const asio_ns::error_code& ec) noexcept {
        if (!ec) {
          ctx->accept_current_connection(index, ec);
          return;
        }
        { connection_lifetime_monitor_t give_back{&ctx->m_connection_count_limiter}; }
        if (!ctx->m_acceptor.is_open())
          return; // the server is stopping
        try {
          pixelcraft::log::warn("pixelcraft.http", "accept failed; retrying in 100 ms",
                                {{"error", ec.message()}});
          auto timer = std::make_shared<asio_ns::steady_timer>(ctx->get_executor());
          timer->expires_after(std::chrono::milliseconds(100));
          timer->async_wait(asio_ns::bind_executor(
              ctx->get_executor(), [index, ctx, timer](const asio_ns::error_code& e) noexcept {
                if (!e && ctx->m_acceptor.is_open())
                  ctx->accept_next(index);
              }));
        } catch (...) {
          ctx->accept_next(index); // no memory for a timer: retry at once
        }
      }));
}

// Added: a client that resets before we read its address (remote_endpoint() throws) or that the
// IP blocker denies gives back its limiter slot; RESTinio leaked one per such client, and
// enough of them stop the server from accepting at all.
template <>
inline void
acceptor_t<pixelcraft::http::traits_t>::accept_connection_for_socket_with_index(std::size_t i) {
  auto incoming_socket = this->move_socket(i);
  asio_ns::error_code ec;
  auto remote_endpoint = incoming_socket.lowest_layer().remote_endpoint(ec);
  if (ec ||
      this->inspect_incoming(incoming_socket) == restinio::ip_blocker::inspection_result_t::deny) {
    connection_lifetime_monitor_t give_back{&m_connection_count_limiter};
    return; // the socket closes with incoming_socket
  }
  do_accept_current_connection(std::move(incoming_socket), remote_endpoint);
}

// Added: admission (total and per-client caps, 503 past them) before the first read.
template <> inline void connection_t<pixelcraft::http::traits_t>::init() {
  using namespace pixelcraft::http;
  std::shared_ptr<admission_control::slot> slot;
  auto transport = g_transport;
  if (transport && transport->admission) {
    std::string client;
    try {
      client = m_remote_endpoint.address().to_string();
    } catch (...) {
      client = "unknown";
    }
    slot = admission_control::acquire(transport->admission, client);
    if (!slot) {
      answer_and_linger(m_socket, this->get_executor(),
                        raw_response(503, "too many connections, retry later", true),
                        shared_from_this(), [this] { close(); });
      return;
    }
  }
  m_lifetime_monitor.slot = std::move(slot);
  prepare_connection_and_start_read(
      m_socket, *this,
      [&] {
        m_prepared_weak_ctx = shared_from_this();
        init_next_timeout_checking();
        wait_for_http_message();
      },
      [&](const asio_ns::error_code& ec) {
        trigger_error_and_close([&] {
          return fmt::format("[connection:{}] prepare connection error: {}", connection_id(),
                             ec.message());
        });
      });
}

// Added: a status for every parser error and limit (RESTinio closes silently), and the header
// deadline: `read_next_http_message_timelimit` is the header timeout, and once the headers are
// complete the rest of the body gets `body_timelimit`.
template <>
inline void connection_t<pixelcraft::http::traits_t>::consume_data(const char* data,
                                                                   std::size_t length) {
  using namespace pixelcraft::http;
  auto& parser = m_input.m_parser;
  const bool had_headers = m_input.m_parser_ctx.m_leading_headers_completed;
  const auto nparsed = http_parser_execute(&parser, &(m_settings->m_parser_settings), data, length);
  m_input.m_buf.consumed_bytes(nparsed);

  // A chunk whose declared size alone passes the body limit is refused now, not after its
  // data has trickled in (RESTinio only counts the bytes that arrive).
  const auto& chunks = m_input.m_parser_ctx.m_chunked_info_block.m_chunks;
  if (HPE_OK == parser.http_errno && !chunks.empty() && g_transport &&
      chunks.back().size() >
          g_transport->max_body_bytes -
              std::min<uint64_t>(chunks.back().started_at(), g_transport->max_body_bytes))
    parser.http_errno = HPE_CB_body;

  // A field name that is not a token is a 400 (RFC 9112 §5.1), checked once the head is in.
  bool bad_name = false;
  if ((HPE_OK == parser.http_errno || HPE_PAUSED == parser.http_errno) && !had_headers &&
      m_input.m_parser_ctx.m_leading_headers_completed)
    m_input.m_parser_ctx.m_header.for_each_field(
        [&](const http_header_field_t& f) { bad_name = bad_name || !is_field_name(f.name()); });

  if (bad_name || (HPE_OK != parser.http_errno && HPE_PAUSED != parser.http_errno)) {
    auto err = HTTP_PARSER_ERRNO(&parser);
    auto transport = g_transport;
    if (!m_response_coordinator.empty() || !transport) {
      // Earlier pipelined requests are still being answered: their responses come first, so
      // there is no clean place for ours.
      trigger_error_and_close([&] {
        return fmt::format("[connection:{}] parser error {}: {}", connection_id(),
                           bad_name ? "bad field name" : http_errno_name(err),
                           http_errno_description(err));
      });
      return;
    }
    auto [status, detail] = bad_name
                                ? std::pair<int, std::string>{400, "malformed header field name"}
                                : parser_error_answer(err, transport->max_body_bytes);
    cancel_timeout_checking();
    answer_and_linger(m_socket, this->get_executor(), raw_response(status, detail, false),
                      shared_from_this(), [this] { close(); });
    return;
  }

  if (m_input.m_parser_ctx.m_message_complete) {
    on_request_message_complete();
  } else {
    if (!had_headers && m_input.m_parser_ctx.m_leading_headers_completed && g_transport)
      schedule_operation_timeout_callback(g_transport->body_timelimit,
                                          &connection_t::handle_read_timeout);
    consume_message();
  }
}

} // namespace impl

namespace websocket::basic::impl {

// Added: a frame declaring more than 64 KiB closes the socket with 1009 before any payload is
// read or allocated (RESTinio resizes its buffer to the declared length, up to 2^64).
template <>
inline void ws_connection_t<pixelcraft::http::traits_t, pixelcraft::http::ws_frame_handler>::
    handle_parsed_header(const message_details_t& md) {
  if (md.payload_len() > pixelcraft::http::max_ws_frame_bytes) {
    // Fail the connection (RFC 6455 §7.1.7): 1009, then close the socket once it is written.
    // Waiting for the peer's close frame makes no sense: its oversized payload, not a frame
    // header, is what would be read next.
    if (read_state_t::read_any_frame == m_read_state) {
      m_close_frame_to_peer.run_if_first([&] {
        auto payload = status_code_to_bin(status_code_t::too_big_message) + "frame too large";
        writable_items_container_t bufs;
        bufs.reserve(2);
        bufs.emplace_back(
            write_message_details(final_frame, opcode_t::connection_close_frame, payload.size()));
        bufs.emplace_back(std::move(payload));
        write_group_t wg{std::move(bufs)};
        // Once written: stop sending, drain what the peer still sends for a moment (closing
        // with unread input would reset the connection and lose the 1009), then close. Weak:
        // the group lives inside this connection, and a strong pointer would keep both alive
        // forever if the write never runs.
        wg.after_write_notificator([weak = std::weak_ptr<tcp_connection_ctx_base_t>(
                                        shared_from_this())](const asio_ns::error_code& ec) {
          auto ctx = weak.lock();
          if (!ctx)
            return;
          auto& self = static_cast<ws_connection_t&>(*ctx);
          if (ec)
            return self.close_impl();
          pixelcraft::http::answer_and_linger(self.m_socket, self.get_executor(), std::string{},
                                              ctx, [&self] { self.close_impl(); });
        });
        m_outgoing_data.append(std::move(wg));
        init_write_if_necessary();
        m_write_state = write_state_t::write_disabled;
        m_read_state = read_state_t::read_only_close_frame;
        guard_close_frame_from_peer_operation(); // a write that never ends still closes
      });
      call_close_handler_if_necessary(status_code_t::too_big_message);
    } else {
      close_impl();
    }
    return;
  }
  const auto validation_result = m_protocol_validator.process_new_frame(md);
  if (validation_state_t::frame_header_is_valid != validation_result) {
    if (read_state_t::read_any_frame == m_read_state) {
      m_close_frame_to_peer.run_if_first(
          [&] { send_close_frame_to_peer(status_code_t::protocol_error); });
      call_close_handler_if_necessary(status_code_t::protocol_error);
    } else if (read_state_t::read_only_close_frame == m_read_state) {
      close_impl();
    }
    return;
  }
  handle_parsed_and_valid_header(md);
}

} // namespace websocket::basic::impl
} // namespace restinio

namespace pixelcraft::http {
namespace {

using chunked_builder = restinio::response_builder_t<restinio::chunked_output_t>;

class stream_impl final : public stream_sink {
public:
  stream_impl(std::shared_ptr<chunked_builder> b, std::function<void()> on_gone)
      : builder_(std::move(b)), on_gone_(std::move(on_gone)) {}

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

class ws_impl final : public ws_session {
public:
  ws_impl(rws::ws_handle_t h, ws_lock lock) : h_(std::move(h)), lock_(std::move(lock)) {}
  ~ws_impl() override {
    try {
      std::lock_guard guard{*lock_};
      if (h_)
        h_->shutdown();
    } catch (...) {
    }
  }
  void send_text(std::string text) override {
    try {
      std::lock_guard guard{*lock_};
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
      std::lock_guard guard{*lock_};
      if (h_)
        h_->send_message(rws::final_frame, rws::opcode_t::connection_close_frame,
                         rws::status_code_to_bin(static_cast<rws::status_code_t>(code)) + reason);
    } catch (const std::exception&) {
    }
  }

private:
  rws::ws_handle_t h_;
  ws_lock lock_;
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
  explicit sink_impl(restinio::request_handle_t req) : req_(std::move(req)) {}

  bool upgrade_websocket(ws_callbacks cb) override {
    auto key = req_->header().opt_value_of(restinio::http_field::sec_websocket_key);
    if (!key || req_->header().connection() != restinio::http_connection_header_t::upgrade)
      return false;
    auto accept = ws_accept(trim(*key)); // the route checked it; white space is not part of it
    auto& handle = restinio::impl::access_req_connection(*req_);
    auto* con = dynamic_cast<restinio::impl::connection_t<traits_t>*>(handle.get());
    if (!con)
      return false;
    // The connection is idle while an upgrade request waits for its answer; the upgrade
    // itself runs on that connection's executor, not on the calling (CAF) thread.
    asio::post(con->get_executor(), [req = req_, accept, cb]() {
      try {
        // Delayed activation: the session is handed over before the first frame is read, so
        // a frame sent right after the handshake never reaches a hub that has no session yet.
        auto lock = std::make_shared<std::mutex>();
        auto wsh = rws::upgrade<traits_t>(*req, rws::activation_t::delayed, accept,
                                          ws_frame_handler{cb.text, cb.closed, lock});
        // Our own reference outlives the lock: if the hub drops the session at once (or is
        // gone), its destructor's shutdown() runs after activation, never under our lock.
        auto session = std::make_shared<ws_impl>(wsh, lock);
        std::lock_guard guard{*lock};
        cb.ready(session);
        activate(*wsh);
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
    if (!in_request_handler) {
      write(req_, std::move(r));
      return;
    }
    // Answered inside RESTinio's handler (a health probe, a refusal): RESTinio 0.6 would start
    // writing it before it records that the handler returned, resume reading once for each,
    // and at the next request find no free slot and close the connection, answering nothing
    // more. Written right after the handler returns instead.
    auto& handle = restinio::impl::access_req_connection(*req_);
    auto* con = dynamic_cast<restinio::impl::connection_t<traits_t>*>(handle.get());
    if (!con) {
      write(req_, std::move(r));
      return;
    }
    asio::post(con->get_executor(),
               [req = req_, r = std::move(r)]() mutable { write(req, std::move(r)); });
  }

  /// Set while RESTinio's request handler runs on this thread.
  static inline thread_local bool in_request_handler = false;

private:
  static void write(const restinio::request_handle_t& req_, http_response r) {
    try {
      if (req_->header().method() == restinio::http_method_head()) {
        // The headers a GET would get, its Content-Length included, and no body.
        auto resp =
            req_->create_response<restinio::user_controlled_output_t>(restinio::http_status_line_t{
                restinio::http_status_code_t{static_cast<uint16_t>(r.status)},
                reason_phrase(r.status)});
        for (auto& [k, v] : r.headers)
          resp.append_header(k, std::move(v));
        resp.set_content_length(r.body.size());
        resp.done();
        return;
      }
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

  restinio::request_handle_t req_;
};

class server_impl final : public http_server {
public:
  using handle_t = restinio::running_server_handle_t<traits_t>;

  server_impl(handle_t h, uint16_t port, std::shared_ptr<limiter_gate> gate)
      : handle_(std::move(h)), port_(port), gate_(std::move(gate)) {}
  ~server_impl() override { stop(); }

  uint16_t port() const override { return port_; }

  // The io_context stays alive (in handle_) until destruction: response sinks still held by
  // actors post their writes to its strands after stop, and a destroyed one hangs or crashes
  // them. Once stopped, those writes are queued and discarded.
  void stop() override {
    if (stopped_)
      return;
    stopped_ = true;
    gate_->close(); // before the acceptor can go: see lifetime_monitor
    handle_->stop();
    handle_->wait();
  }

private:
  handle_t handle_;
  uint16_t port_;
  std::shared_ptr<limiter_gate> gate_;
  bool stopped_ = false;
};

/// Raises the soft open-file limit towards the hard one, enough for `wanted` sockets plus the
/// process's other files. Returns how many connections the limit leaves room for.
size_t raise_open_file_limit(size_t wanted) {
  constexpr size_t reserve = 256; // database, model and vendor sockets, logs
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0)
    return wanted;
  rlim_t need = wanted + reserve;
  if (lim.rlim_cur != RLIM_INFINITY && lim.rlim_cur < need) {
    rlimit raised = lim;
    raised.rlim_cur = lim.rlim_max == RLIM_INFINITY ? need : std::min<rlim_t>(need, lim.rlim_max);
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0)
      lim = raised;
  }
  if (lim.rlim_cur == RLIM_INFINITY || lim.rlim_cur >= need)
    return wanted;
  auto room = lim.rlim_cur > 2 * reserve ? static_cast<size_t>(lim.rlim_cur) - reserve : 64;
  log::warn("pixelcraft.http", "open-file limit caps connections",
            {{"limit", static_cast<uint64_t>(lim.rlim_cur)}, {"connections", room}});
  return room;
}

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
      r.headers.emplace_back(lower(f.name()), std::string{f.value()});
    });
    try {
      r.remote_ip = req->remote_endpoint().address().to_string();
    } catch (...) {
      r.remote_ip = "unknown";
    }
    sink_impl::in_request_handler = true;
    try {
      h(std::move(r), std::make_shared<sink_impl>(req));
    } catch (...) {
      sink_impl::in_request_handler = false;
      throw;
    }
    sink_impl::in_request_handler = false;
    return restinio::request_accepted();
  };
  // RESTinio enforces our limits itself now: its parser errors are answered with 413/414/431
  // by the consume_data specialisation above, before any oversized body is read.
  auto transport = std::make_shared<transport_settings>();
  transport->admission =
      std::make_shared<admission_control>(opts.max_connections, opts.max_connections_per_client);
  transport->body_timelimit = opts.body_timeout;
  transport->max_body_bytes = opts.max_body_bytes;
  g_transport = transport;
  // RESTinio's own cap stops accepting when reached; keep it above ours so that connections
  // past our cap are accepted and told 503, and below the open-file limit.
  auto hard_cap = raise_open_file_limit(opts.max_connections + 1024);
  try {
    auto settings =
        restinio::server_settings_t<traits_t>{}
            .address(opts.host)
            .port(opts.port)
            .handle_request_timeout(opts.handle_timeout)
            .read_next_http_message_timelimit(opts.header_timeout)
            .write_http_response_timelimit(std::chrono::seconds(60))
            .incoming_http_msg_limits(
                restinio::incoming_http_msg_limits_t{}
                    .max_url_size(opts.max_url_bytes)
                    .max_field_name_size(std::min<uint64_t>(8192, opts.max_header_bytes))
                    .max_field_value_size(opts.max_header_bytes + 1)
                    .max_field_count(opts.max_header_count)
                    .max_body_size(opts.max_body_bytes))
            .max_parallel_connections(hard_cap)
            // Requests a client pipelines are handled up to this many at once, and answered
            // in order (RESTinio's default: one at a time).
            .max_pipelined_requests(max_pipelined)
            // Small frames (SSE pieces, monitor events) go out at once: with Nagle, a frame
            // written while the previous one is unacknowledged waits for the client's
            // delayed ACK (up to 40 ms on Linux).
            .socket_options_setter([](restinio::socket_options_t& o) {
              asio::error_code ec;
              o.set_option(asio::ip::tcp::no_delay{true}, ec);
            })
            .acceptor_post_bind_hook([bound](asio::ip::tcp::acceptor& a) {
              bound->set_value(a.local_endpoint().port());
            })
            .request_handler(std::move(on_request));
    auto handle = restinio::run_async<traits_t>(restinio::own_io_context(), std::move(settings),
                                                std::max(1u, opts.io_threads));
    if (bound_future.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
      error = "server did not bind within 10 s";
      transport->gate->close();
      handle->stop();
      handle->wait();
      return nullptr;
    }
    return std::make_unique<server_impl>(std::move(handle), bound_future.get(), transport->gate);
  } catch (const std::exception& e) {
    error = e.what();
    return nullptr;
  }
}

} // namespace pixelcraft::http
