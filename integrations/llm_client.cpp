// The model client. Streams arrive in arbitrary slices (an NDJSON line or an SSE event may be
// split across callbacks), so each call keeps a line buffer. All curl work happens on this
// actor's own thread (detached), including the write callbacks that forward chunks.
#include "integrations/llm_client.hpp"

#include "actors/errc.hpp"
#include "actors/json_limits.hpp"
#include "actors/log.hpp"
#include "integrations/stream_parsers.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/response_promise.hpp>
#include <caf/stateful_actor.hpp>

#include <curl/curl.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <random>

namespace pixelcraft::integrations {

namespace {

using json = nlohmann::json;
using clock_type = std::chrono::steady_clock;
constexpr const char* component = "pixelcraft.llm";
constexpr size_t max_error_body = 16 * 1024;
constexpr size_t max_line = 4 * 1024 * 1024;

struct call : model_stream {
  uint64_t id = 0;
  std::string model;
  std::string url;
  std::string body;
  caf::actor listener;
  caf::response_promise rp;
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  std::string line_buf;
  std::string error_body;
  std::string content;
  bool first_token = false;
  bool got_bytes = false; ///< the model started answering (stall detection applies from here)
  bool stalled = false;
  clock_type::time_point last_data = clock_type::now();
  unsigned attempts = 0;
  clock_type::time_point started = clock_type::now();
  clock_type::time_point first_token_at{};
  clock_type::time_point ready_at{};
  /// The whole call ends by then, queueing and retries included (`LLM_TIMEOUT_S`, or less when
  /// the caller's request carries a smaller `timeout_ms`: deadline.hpp).
  clock_type::time_point deadline{};
  caf::event_based_actor* self = nullptr;
  bool openai = false;
};

struct model_metrics {
  uint64_t requests = 0;
  uint64_t successes = 0;
  double latency_ms_sum = 0;
  int64_t tokens_in = 0;
  int64_t tokens_out = 0;
};

struct llm_state {
  llm_options cfg;
  CURLM* multi = nullptr;
  uint64_t next_id = 1;
  std::map<uint64_t, std::unique_ptr<call>> calls;     ///< every call not yet answered
  std::map<std::string, std::deque<uint64_t>> waiting; ///< per model, FIFO
  std::map<std::string, unsigned> active;              ///< per model, transfers in flight
  std::map<std::string, model_metrics> metrics;
  bool ticking = false;
  std::mt19937 rng{std::random_device{}()};
  static inline const char* name = "pixelcraft.llm-client";

  ~llm_state() {
    for (auto& [id, c] : calls)
      release(*c);
    if (multi)
      curl_multi_cleanup(multi);
  }

  void release(call& c) {
    if (c.easy) {
      curl_multi_remove_handle(multi, c.easy);
      curl_easy_cleanup(c.easy);
      c.easy = nullptr;
    }
    if (c.headers) {
      curl_slist_free_all(c.headers);
      c.headers = nullptr;
    }
  }
};

using llm_pointer = caf::stateful_actor<llm_state>*;

void on_piece(call& c, const std::string& piece) {
  if (piece.empty())
    return;
  if (!c.first_token) {
    c.first_token = true;
    c.first_token_at = clock_type::now();
  }
  c.content += piece;
  if (c.listener)
    c.self->send(c.listener, llm_chunk_atom_v, piece);
}

size_t on_data(char* p, size_t size, size_t n, void* user) {
  auto& c = *static_cast<call*>(user);
  auto len = size * n;
  c.last_data = clock_type::now();
  c.got_bytes = true;
  long status = 0;
  curl_easy_getinfo(c.easy, CURLINFO_RESPONSE_CODE, &status);
  if (status >= 300) {
    if (c.error_body.size() < max_error_body)
      c.error_body.append(p, std::min(len, max_error_body - c.error_body.size()));
    return len;
  }
  c.line_buf.append(p, len);
  for (size_t nl; (nl = c.line_buf.find('\n')) != std::string::npos;) {
    std::string_view line{c.line_buf.data(), nl};
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    on_piece(c, c.openai ? openai_line(c, line) : ollama_line(c, line));
    c.line_buf.erase(0, nl + 1);
    if (!c.stream_error.empty())
      return 0; // the model reported an error: stop reading
  }
  if (c.line_buf.size() > max_line)
    return 0;
  return len;
}

/// Builds the provider's request body from the neutral request.
std::string provider_body(const llm_options& cfg, bool openai, const json& req) {
  json out;
  out["model"] = req["model"];
  // Tool rounds: our neutral messages carry `tool_calls` with object arguments and tool
  // results with `tool_name` and `tool_call_id`; each provider wants its own shape.
  json messages = json::array();
  for (const auto& m : req["messages"]) {
    json x = {{"role", m.value("role", std::string{"user"})},
              {"content", m.value("content", std::string{})}};
    if (m.contains("tool_calls")) {
      json calls = json::array();
      for (const auto& c : m["tool_calls"]) {
        auto fn = c.value("function", json::object());
        auto args = fn.value("arguments", json::object());
        if (openai)
          calls.push_back(
              {{"id", c.value("id", std::string{})},
               {"type", "function"},
               {"function",
                {{"name", fn.value("name", std::string{})},
                 {"arguments", args.is_string() ? args.get<std::string>() : args.dump()}}}});
        else
          calls.push_back(
              {{"function", {{"name", fn.value("name", std::string{})}, {"arguments", args}}}});
      }
      x["tool_calls"] = calls;
    }
    if (x["role"] == "tool") {
      if (openai)
        x["tool_call_id"] = m.value("tool_call_id", std::string{});
      else
        x["tool_name"] = m.value("tool_name", std::string{});
    }
    messages.push_back(std::move(x));
  }
  out["messages"] = messages;
  out["stream"] = true;
  if (openai) {
    if (req.contains("temperature"))
      out["temperature"] = req["temperature"];
    if (req.contains("max_tokens"))
      out["max_tokens"] = req["max_tokens"];
    if (req.contains("format"))
      out["response_format"] =
          req["format"].is_object()
              ? json{{"type", "json_schema"},
                     {"json_schema", {{"name", "answer"}, {"schema", req["format"]}}}}
              : json{{"type", "json_object"}};
    if (req.contains("tools"))
      out["tools"] = req["tools"];
    out["stream_options"] = {{"include_usage", true}};
  } else {
    json options = json::object();
    if (req.contains("temperature"))
      options["temperature"] = req["temperature"];
    if (req.contains("max_tokens"))
      options["num_predict"] = req["max_tokens"];
    out["options"] = options;
    if (req.contains("format"))
      out["format"] = req["format"];
    if (req.contains("tools"))
      out["tools"] = req["tools"];
    out["keep_alive"] = cfg.keep_alive;
  }
  return out.dump();
}

void ensure_ticking(llm_pointer self);

void finish(llm_pointer self, call& c, caf::error err) {
  auto& st = self->state;
  auto& m = st.metrics[c.model];
  auto latency = std::chrono::duration<double, std::milli>(clock_type::now() - c.started).count();
  if (err) {
    log::warn(component, "model call failed",
              {{"model", c.model}, {"latency_ms", latency}, {"error", caf::to_string(err)}});
    c.rp.deliver(std::move(err));
  } else {
    ++m.successes;
    m.latency_ms_sum += latency;
    m.tokens_in += c.tokens_in;
    m.tokens_out += c.tokens_out;
    for (auto& [i, t] : c.openai_tools) {
      auto args = parse_json(t["function"]["arguments"].get<std::string>());
      if (!args.is_discarded())
        t["function"]["arguments"] = args;
      c.tool_calls.push_back(t);
    }
    model_reply out;
    out.content = c.content;
    out.model = c.model;
    out.provider = c.openai ? "openai" : "ollama";
    out.tokens_in = c.tokens_in;
    out.tokens_out = c.tokens_out;
    out.latency_ms = latency;
    out.ttft_ms =
        c.first_token
            ? std::chrono::duration<double, std::milli>(c.first_token_at - c.started).count()
            : latency;
    if (!c.tool_calls.empty())
      out.tool_calls = c.tool_calls.dump(-1, ' ', false, json::error_handler_t::replace);
    log::info(component, "model call",
              {{"model", c.model}, {"latency_ms", latency}, {"tokens_out", c.tokens_out}});
    c.rp.deliver(std::move(out));
  }
}

/// Starts the transfer of call `id` (a model slot is free).
void start_transfer(llm_pointer self, call& c) {
  auto& st = self->state;
  auto& cfg = st.cfg;
  c.easy = curl_easy_init();
  c.line_buf.clear();
  c.error_body.clear();
  c.got_bytes = false;
  c.headers = curl_slist_append(nullptr, "Content-Type: application/json");
  c.headers = curl_slist_append(c.headers, c.openai ? "Accept: text/event-stream"
                                                    : "Accept: application/x-ndjson");
  if (c.openai && !cfg.api_key.empty())
    c.headers = curl_slist_append(c.headers, ("Authorization: Bearer " + cfg.api_key).c_str());
  curl_easy_setopt(c.easy, CURLOPT_URL, c.url.c_str());
  curl_easy_setopt(c.easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c.easy, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c.easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c.easy, CURLOPT_POST, 1L);
  curl_easy_setopt(c.easy, CURLOPT_POSTFIELDS, c.body.data());
  curl_easy_setopt(c.easy, CURLOPT_POSTFIELDSIZE, static_cast<long>(c.body.size()));
  curl_easy_setopt(c.easy, CURLOPT_HTTPHEADER, c.headers);
  curl_easy_setopt(c.easy, CURLOPT_CONNECTTIMEOUT, static_cast<long>(cfg.connect_timeout_s));
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(c.deadline - clock_type::now());
  curl_easy_setopt(c.easy, CURLOPT_TIMEOUT_MS, std::max(1L, static_cast<long>(left.count())));
  // Stall detection is ours (tick): curl's low-speed check averages over several seconds.
  c.last_data = clock_type::now();
  curl_easy_setopt(c.easy, CURLOPT_WRITEFUNCTION, &on_data);
  curl_easy_setopt(c.easy, CURLOPT_WRITEDATA, &c);
  curl_easy_setopt(c.easy, CURLOPT_PRIVATE, reinterpret_cast<void*>(c.id));
  curl_easy_setopt(c.easy, CURLOPT_USERAGENT, "pixelcraft/1");
  ++c.attempts;
  curl_multi_add_handle(st.multi, c.easy);
  ++st.active[c.model];
}

/// Starts waiting calls whose model has a free slot and whose retry time has come.
void pump(llm_pointer self) {
  auto& st = self->state;
  auto now = clock_type::now();
  for (auto& [model, queue] : st.waiting) {
    for (auto it = queue.begin(); it != queue.end() && st.active[model] < st.cfg.max_concurrency;) {
      auto found = st.calls.find(*it);
      if (found == st.calls.end()) {
        it = queue.erase(it);
        continue;
      }
      if (found->second->ready_at > now) {
        ++it;
        continue;
      }
      start_transfer(self, *found->second);
      it = queue.erase(it);
    }
  }
}

bool retryable(CURLcode rc, long status) {
  if (rc == CURLE_OK)
    return status == 429 || status >= 500;
  return rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
         rc == CURLE_GOT_NOTHING || rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR ||
         rc == CURLE_PARTIAL_FILE;
}

std::string vendor_error(const std::string& body) {
  auto j = parse_json(body);
  std::string text;
  if (j.is_object() && j.contains("error"))
    text = j["error"].is_string()   ? j["error"].get<std::string>()
           : j["error"].is_object() ? j["error"].value("message", std::string{})
                                    : std::string{};
  if (text.size() > 300)
    text.resize(300);
  return text;
}

/// A transfer ended: answer, or queue a retry (only before the first token).
void completed(llm_pointer self, uint64_t id, CURLcode rc) {
  auto& st = self->state;
  auto it = st.calls.find(id);
  if (it == st.calls.end())
    return;
  auto& c = *it->second;
  long status = 0;
  curl_easy_getinfo(c.easy, CURLINFO_RESPONSE_CODE, &status);
  st.release(c);
  --st.active[c.model];
  auto backoff = std::chrono::milliseconds(200 << (c.attempts - 1)) +
                 std::chrono::milliseconds(st.rng() % 100);
  if (!c.first_token && !c.stalled && c.stream_error.empty() && retryable(rc, status) &&
      c.attempts <= st.cfg.retries && clock_type::now() + backoff < c.deadline) {
    c.ready_at = clock_type::now() + backoff;
    st.waiting[c.model].push_front(id);
    self->delayed_send(self, backoff, tick_atom_v);
    return;
  }
  // The second context element tells whether the model had already produced output.
  auto make_err = [&c](errc code, std::string text) {
    return caf::make_error(code, std::move(text), c.first_token);
  };
  caf::error err;
  if (!c.stream_error.empty())
    err = make_err(errc::unavailable, "model error: " + c.stream_error.substr(0, 300));
  else if (c.stalled)
    err = make_err(errc::deadline_exceeded, "the model stalled (no data for " +
                                                std::to_string(st.cfg.stall_timeout_s) + " s)");
  else if (rc == CURLE_OPERATION_TIMEDOUT)
    err = make_err(errc::deadline_exceeded, c.first_token ? "the model did not finish in time"
                                                          : "the model did not answer in time");
  else if (rc != CURLE_OK)
    err = make_err(errc::unavailable,
                   std::string{"model server unreachable: "} + curl_easy_strerror(rc));
  else if (status == 404)
    err = make_err(errc::not_found, "model '" + c.model + "' not found");
  else if (status == 429 || status >= 500)
    err = make_err(errc::unavailable, "model server error (HTTP " + std::to_string(status) + ")");
  else if (status >= 400)
    err = make_err(errc::invalid_argument, "model server refused the request (HTTP " +
                                               std::to_string(status) + ") " +
                                               vendor_error(c.error_body));
  else if (!c.complete)
    err = make_err(errc::unavailable, "the model's stream ended before it was complete");
  auto owned = std::move(it->second);
  st.calls.erase(it);
  finish(self, *owned, std::move(err));
}

/// Aborts transfers that received nothing for the stall timeout.
/// and calls past their deadline, running or still queued.
void check_stalls(llm_pointer self) {
  auto& st = self->state;
  auto limit = std::chrono::seconds(st.cfg.stall_timeout_s);
  auto now = clock_type::now();
  std::vector<uint64_t> stalled, late;
  for (auto& [id, c] : st.calls) {
    if (c->easy && c->got_bytes && now - c->last_data > limit)
      stalled.push_back(id);
    else if (now >= c->deadline)
      late.push_back(id);
  }
  for (auto id : stalled) {
    auto& c = *st.calls[id];
    c.stalled = true;
    // Reported like a finished transfer, with the stall as its cause.
    completed(self, id, CURLE_OPERATION_TIMEDOUT);
  }
  for (auto id : late) {
    auto it = st.calls.find(id);
    if (it == st.calls.end())
      continue;
    if (it->second->easy) {
      completed(self, id, CURLE_OPERATION_TIMEDOUT);
      continue;
    }
    // Still waiting for a model slot (or a retry): its queue entry is skipped by `pump`.
    auto owned = std::move(it->second);
    st.calls.erase(it);
    owned->rp.deliver(
        caf::make_error(errc::deadline_exceeded, "the model did not answer in time (busy)", false));
  }
}

void tick(llm_pointer self) {
  auto& st = self->state;
  st.ticking = false;
  check_stalls(self);
  pump(self);
  int running = 0;
  curl_multi_perform(st.multi, &running);
  int left = 0;
  while (CURLMsg* msg = curl_multi_info_read(st.multi, &left)) {
    if (msg->msg != CURLMSG_DONE)
      continue;
    void* priv = nullptr;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
    completed(self, reinterpret_cast<uint64_t>(priv), msg->data.result);
  }
  pump(self);
  bool any_active = false;
  for (auto& [model, n] : st.active)
    any_active = any_active || n > 0;
  if (any_active) {
    // Waiting here blocks only this detached actor's thread; the mailbox is read next tick.
    if (running > 0)
      curl_multi_poll(st.multi, nullptr, 0, 10, nullptr);
    ensure_ticking(self);
  }
  // Otherwise idle: new calls and retry backoffs (delayed ticks) wake us.
}

void ensure_ticking(llm_pointer self) {
  if (self->state.ticking)
    return;
  self->state.ticking = true;
  self->send(self, tick_atom_v);
}

void cancel_for(llm_pointer self, const caf::actor_addr& listener) {
  auto& st = self->state;
  for (auto it = st.calls.begin(); it != st.calls.end();) {
    auto& c = *it->second;
    if (c.listener.address() != listener) {
      ++it;
      continue;
    }
    if (c.easy) {
      st.release(c); // closes the connection to the model now
      --st.active[c.model];
    }
    log::info(component, "model call cancelled", {{"model", c.model}});
    c.rp.deliver(caf::make_error(errc::aborted, "cancelled"));
    it = st.calls.erase(it);
  }
  ensure_ticking(self);
}

caf::behavior llm_fn(llm_pointer self, llm_options cfg) {
  self->state.cfg = std::move(cfg);
  self->state.multi = curl_multi_init();
  self->set_down_handler([self](caf::down_msg& dm) { cancel_for(self, dm.source); });
  // On shutdown every caller gets an answer (a dropped promise would leave it waiting for its
  // timeout, and keep the process from ending).
  self->set_exit_handler([self](caf::exit_msg& em) {
    auto& st = self->state;
    for (auto& [id, c] : st.calls) {
      st.release(*c);
      c->rp.deliver(caf::make_error(errc::unavailable, "shutting down"));
    }
    st.calls.clear();
    self->quit(em.reason);
  });
  return {
      [self](llm_chat_atom, const std::string& request, caf::actor& listener) {
        auto& st = self->state;
        auto rp = self->make_response_promise();
        auto req = parse_json(request);
        if (!req.is_object() || !req.contains("model") || !req["model"].is_string() ||
            !req.contains("messages") || !req["messages"].is_array()) {
          rp.deliver(caf::make_error(errc::invalid_argument, "malformed model request"));
          return;
        }
        auto c = std::make_unique<call>();
        c->id = st.next_id++;
        c->model = req["model"].get<std::string>();
        c->openai = st.cfg.provider == "openai";
        c->url = c->openai ? st.cfg.openai_url + "/v1/chat/completions"
                           : st.cfg.ollama_url + "/api/chat";
        c->body = provider_body(st.cfg, c->openai, req);
        c->listener = listener;
        c->rp = rp;
        c->self = self;
        auto budget = std::chrono::milliseconds(std::chrono::seconds(st.cfg.timeout_s));
        if (auto it = req.find("timeout_ms"); it != req.end() && it->is_number_unsigned())
          budget = std::min(budget, std::chrono::milliseconds(it->get<uint64_t>()));
        c->deadline = clock_type::now() + budget;
        ++st.metrics[c->model].requests;
        auto& queue = st.waiting[c->model];
        if (queue.size() >= st.cfg.queue_limit && st.active[c->model] >= st.cfg.max_concurrency) {
          rp.deliver(caf::make_error(errc::unavailable, "model '" + c->model + "' is busy"));
          return;
        }
        if (listener)
          self->monitor(listener);
        queue.push_back(c->id);
        st.calls.emplace(c->id, std::move(c));
        ensure_ticking(self);
      },
      [self](llm_stats_atom) {
        json models = json::array();
        for (auto& [name, m] : self->state.metrics)
          models.push_back(
              {{"name", name},
               {"provider", self->state.cfg.provider},
               {"metrics",
                {{"total_requests", m.requests},
                 {"success_rate", m.requests ? static_cast<double>(m.successes) / m.requests : 0.0},
                 {"avg_latency_ms", m.successes ? m.latency_ms_sum / m.successes : 0.0},
                 {"tokens_in", m.tokens_in},
                 {"tokens_out", m.tokens_out}}}});
        return json{{"models", models}}.dump();
      },
      [self](load_atom) { return static_cast<int32_t>(self->state.calls.size()); },
      [self](tick_atom) { tick(self); },
  };
}

} // namespace

llm_actor spawn_llm_client(caf::actor_system& sys, const llm_options& cfg) {
  return caf::actor_cast<llm_actor>(sys.spawn<caf::detached>(llm_fn, cfg));
}

} // namespace pixelcraft::integrations
