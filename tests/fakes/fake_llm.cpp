#include "tests/fakes/fake_llm.hpp"

#include <restinio/all.hpp>

#include <atomic>
#include <functional>
#include <future>
#include <thread>

namespace pixelcraft::test {

using json = nlohmann::json;
using clock_type = std::chrono::steady_clock;

struct fake_llm::impl {
  using builder = restinio::response_builder_t<restinio::chunked_output_t>;
  using server_t = restinio::running_server_handle_t<restinio::default_traits_t>;

  mutable std::mutex mtx;
  fake_llm_script script;
  std::vector<fake_llm_script> queued;
  std::function<fake_llm_script(const json&)> responder;
  std::vector<std::string> model_names = {"llama3.2:latest"};
  std::vector<json> requests;
  int calls = 0;
  int finished = 0;
  int abandoned = 0;
  clock_type::time_point finished_at{};
  std::vector<std::thread> streams;
  std::atomic<bool> stopping{false};
  server_t server;
  uint16_t port = 0;

  /// Writes one chunk and waits for it to leave; false if the client is gone.
  static bool write(builder& b, std::string text) {
    std::promise<bool> sent;
    auto fut = sent.get_future();
    b.append_chunk(std::move(text));
    b.flush([&sent](const asio::error_code& ec) { sent.set_value(!ec); });
    return fut.wait_for(std::chrono::seconds(5)) == std::future_status::ready && fut.get();
  }

  void sleep_for(std::chrono::milliseconds d) {
    auto until = clock_type::now() + d;
    while (!stopping && clock_type::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }

  void stream(restinio::request_handle_t req, fake_llm_script s, bool openai, std::string model) {
    auto b = std::make_shared<builder>(req->create_response<restinio::chunked_output_t>());
    b->append_header(restinio::http_field::content_type,
                     openai ? "text/event-stream" : "application/x-ndjson");
    bool ok = write(*b, "");
    auto line = [&](const json& j) {
      return openai ? "data: " + j.dump() + "\n\n" : j.dump() + "\n";
    };
    auto piece = [&](const std::string& text) {
      if (openai)
        return line({{"choices", {{{"index", 0}, {"delta", {{"content", text}}}}}}});
      return line({{"model", model},
                   {"created_at", "2026-11-24T00:00:00Z"},
                   {"message", {{"role", "assistant"}, {"content", text}}},
                   {"done", false}});
    };
    for (size_t i = 0; ok && i < s.tokens.size(); ++i) {
      if (i > 0 || s.token_delay.count() > 0)
        sleep_for(s.token_delay);
      // Split each line in two writes: clients must buffer partial lines.
      auto text = piece(s.tokens[i]);
      auto half = text.size() / 2;
      ok = write(*b, text.substr(0, half)) && write(*b, text.substr(half));
      if (i == 0 && s.stall_after_first) {
        sleep_for(s.stall_for);
        ok = false;
        break;
      }
      if (i == 0 && s.drop_after_first) {
        ok = false;
        break;
      }
      if (i == 0 && !s.mid_stream_error.empty()) {
        write(*b, openai ? line({{"error", {{"message", s.mid_stream_error}}}})
                         : line({{"error", s.mid_stream_error}}));
        ok = false;
        break;
      }
    }
    if (ok) {
      if (openai) {
        ok = write(*b,
                   line({{"choices",
                          {{{"index", 0}, {"delta", json::object()}, {"finish_reason", "stop"}}}},
                         {"usage",
                          {{"prompt_tokens", 12}, {"completion_tokens", s.tokens.size()}}}})) &&
             write(*b, "data: [DONE]\n\n");
      } else {
        json last = {{"model", model},
                     {"created_at", "2026-11-24T00:00:01Z"},
                     {"message", {{"role", "assistant"}, {"content", ""}}},
                     {"done", true},
                     {"done_reason", "stop"},
                     {"prompt_eval_count", 12},
                     {"eval_count", s.tokens.size()}};
        if (!s.tool_calls.is_null())
          last["message"]["tool_calls"] = s.tool_calls;
        auto text = line(last);
        if (!s.raw_tool_calls.empty()) {
          last["message"]["tool_calls"] = "\x01raw";
          text = line(last);
          auto at = text.find("\"\\u0001raw\"");
          if (at != std::string::npos)
            text.replace(at, 11, s.raw_tool_calls);
        }
        ok = write(*b, text);
      }
    }
    {
      std::lock_guard<std::mutex> g{mtx};
      if (ok) {
        ++finished;
        finished_at = clock_type::now();
      } else {
        ++abandoned;
      }
    }
    try {
      b->done();
    } catch (...) {
    }
  }

  restinio::request_handling_status_t handle(restinio::request_handle_t req) {
    auto path = std::string{req->header().path()};
    auto method = req->header().method();
    if (method == restinio::http_method_get() && (path == "/api/tags" || path == "/v1/models")) {
      json list = json::array();
      {
        std::lock_guard<std::mutex> g{mtx};
        for (auto& n : model_names)
          list.push_back(path == "/api/tags" ? json{{"name", n}, {"model", n}, {"size", 1}}
                                             : json{{"id", n}, {"object", "model"}});
      }
      json body =
          path == "/api/tags" ? json{{"models", list}} : json{{"object", "list"}, {"data", list}};
      return req->create_response()
          .append_header(restinio::http_field::content_type, "application/json")
          .set_body(body.dump())
          .done();
    }
    bool openai = path == "/v1/chat/completions";
    if (method != restinio::http_method_post() || (path != "/api/chat" && !openai))
      return req->create_response(restinio::status_not_found())
          .set_body("404 page not found")
          .done();
    auto body = json::parse(req->body(), nullptr, false);
    fake_llm_script s;
    {
      std::lock_guard<std::mutex> g{mtx};
      requests.push_back(body);
      ++calls;
      s = script;
      if (!queued.empty()) {
        s = queued.front();
        queued.erase(queued.begin());
      } else if (responder) {
        s = responder(body);
      }
    }
    auto model = body.is_object() ? body.value("model", std::string{"?"}) : std::string{"?"};
    if (s.status != 200) {
      json err = openai ? json{{"error", {{"message", "scripted failure"}}}}
                        : json{{"error", "scripted failure"}};
      return req
          ->create_response(restinio::http_status_line_t{
              restinio::http_status_code_t{static_cast<uint16_t>(s.status)}, "Scripted"})
          .append_header(restinio::http_field::content_type, "application/json")
          .set_body(err.dump())
          .done();
    }
    std::lock_guard<std::mutex> g{mtx};
    streams.emplace_back([this, req, s, openai, model] { stream(req, s, openai, model); });
    return restinio::request_accepted();
  }
};

fake_llm::fake_llm() : impl_(std::make_unique<impl>()) {
  std::promise<uint16_t> bound;
  auto fut = bound.get_future();
  auto* self = impl_.get();
  impl_->server = restinio::run_async<restinio::default_traits_t>(
      restinio::own_io_context(),
      restinio::server_settings_t<restinio::default_traits_t>{}
          .address("127.0.0.1")
          .port(0)
          .handle_request_timeout(std::chrono::seconds(60))
          .acceptor_post_bind_hook(
              [&bound](asio::ip::tcp::acceptor& a) { bound.set_value(a.local_endpoint().port()); })
          .request_handler([self](restinio::request_handle_t req) { return self->handle(req); }),
      2);
  impl_->port = fut.get();
}

fake_llm::~fake_llm() {
  impl_->stopping = true;
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> g{impl_->mtx};
    threads.swap(impl_->streams);
  }
  for (auto& t : threads)
    t.join();
  impl_->server->stop();
  impl_->server->wait();
}

std::string fake_llm::url() const {
  return "http://127.0.0.1:" + std::to_string(impl_->port);
}

void fake_llm::script(fake_llm_script s) {
  std::lock_guard<std::mutex> g{impl_->mtx};
  impl_->script = std::move(s);
}

void fake_llm::respond(std::function<fake_llm_script(const nlohmann::json&)> f) {
  std::lock_guard<std::mutex> g{impl_->mtx};
  impl_->responder = std::move(f);
}

void fake_llm::queue(std::vector<fake_llm_script> scripts) {
  std::lock_guard<std::mutex> g{impl_->mtx};
  impl_->queued = std::move(scripts);
}

void fake_llm::models(std::vector<std::string> names) {
  std::lock_guard<std::mutex> g{impl_->mtx};
  impl_->model_names = std::move(names);
}

std::vector<json> fake_llm::requests() const {
  std::lock_guard<std::mutex> g{impl_->mtx};
  return impl_->requests;
}

int fake_llm::chat_calls() const {
  std::lock_guard<std::mutex> g{impl_->mtx};
  return impl_->calls;
}

int fake_llm::finished() const {
  std::lock_guard<std::mutex> g{impl_->mtx};
  return impl_->finished;
}

int fake_llm::abandoned() const {
  std::lock_guard<std::mutex> g{impl_->mtx};
  return impl_->abandoned;
}

std::chrono::steady_clock::time_point fake_llm::last_finished_at() const {
  std::lock_guard<std::mutex> g{impl_->mtx};
  return impl_->finished_at;
}

} // namespace pixelcraft::test
