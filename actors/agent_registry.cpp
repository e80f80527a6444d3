#include "actors/agent_registry.hpp"

#include <chrono>
#include <algorithm>
#include <functional>
#include <map>
#include <random>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <nlohmann/json.hpp>

#include "actors/errc.hpp"
#include "actors/log.hpp"

namespace pixelcraft {

namespace {

using json = nlohmann::json;
using clock_type = std::chrono::steady_clock;
constexpr const char* component = "pixelcraft.agents";

using agent_actor = caf::typed_actor<caf::replies_to<chat_atom, std::string, caf::actor>::with<std::string>,
                                     caf::reacts_to<idle_atom, uint64_t>>;

struct agent_state {
  const agent_def* def = nullptr;
  std::string conversation_id; ///< empty: one-shot
  agent_registry_options opts;
  std::vector<json> history; ///< user/assistant turns, oldest first
  std::vector<std::weak_ptr<struct turn>> open_turns; ///< answered with an error on exit
  bool loaded = false;
  uint64_t generation = 0;
  static inline const char* name = "pixelcraft.agent";
};

using agent_pointer = agent_actor::stateful_pointer<agent_state>;

std::chrono::milliseconds db_timeout(const config& cfg) {
  return std::chrono::milliseconds(cfg.db_timeout_ms + 4000);
}

struct turn {
  json request;
  caf::actor listener;
  caf::typed_response_promise<std::string> rp;
  clock_type::time_point started = clock_type::now();
  std::string message;
  json extra = json::array();        ///< tool-call rounds: assistant calls and tool results
  json tools_used = json::array();
  json memory_writes = json::array(); ///< successful `remember` calls: {key, scope, version}
  unsigned round = 0;
  bool user_stored = false;          ///< the user message's insert has finished
  caf::error user_error;             ///< ... and failed
  std::function<void()> after_store; ///< the reply, waiting for the user message to be stored
};

/// Ends a one-shot agent once its turn is answered; conversation agents stay for the next.
void end_turn(agent_pointer self) {
  if (self->state.conversation_id.empty())
    self->quit();
}

void fail_turn(agent_pointer self, const std::shared_ptr<turn>& t, caf::error err) {
  t->rp.deliver(std::move(err));
  end_turn(self);
}

void write_log(agent_pointer self, const turn& t, const std::string& status, const json& output,
               const std::string& error) {
  auto& st = self->state;
  json row = {{"agent_type", st.def->id},
              {"action", t.request.value("action", std::string{"chat"})},
              {"conversation_id",
               st.conversation_id.empty() ? json(nullptr) : json(st.conversation_id)},
              {"input_data", {{"message_chars", t.message.size()},
                              {"has_context", t.request.contains("context")}}},
              {"output_data", output},
              {"execution_time_ms",
               std::chrono::duration<double, std::milli>(clock_type::now() - t.started).count()},
              {"status", status},
              {"error_message", error.empty() ? json(nullptr) : json(error)}};
  self->request(st.opts.db, db_timeout(st.opts.cfg), db_op_atom_v, std::string{"log_add"},
                row.dump())
    .then([](const std::string&) {},
          [](caf::error& err) {
            log::warn(component, "agent log not written", {{"error", caf::to_string(err)}});
          });
}

json model_request(const agent_state& st, const turn& t) {
  json messages = json::array();
  messages.push_back({{"role", "system"}, {"content", st.def->system_prompt}});
  if (t.request.contains("context") && t.request["context"].is_object() &&
      !t.request["context"].empty())
    messages.push_back({{"role", "system"},
                        {"content", "Context provided by the application (JSON): " +
                                      t.request["context"].dump()}});
  auto turns = static_cast<size_t>(st.opts.cfg.history_turns) * 2;
  auto from = st.history.size() > turns ? st.history.size() - turns : 0;
  for (size_t i = from; i < st.history.size(); ++i)
    messages.push_back(st.history[i]);
  messages.push_back({{"role", "user"}, {"content", t.message}});
  for (const auto& m : t.extra)
    messages.push_back(m);
  json req = {{"model", st.def->model},
              {"messages", messages},
              {"temperature", st.def->temperature},
              {"max_tokens", st.def->max_tokens}};
  if (t.request.contains("format")) {
    req["format"] = t.request["format"];
  } else if (st.opts.tools && t.round < st.opts.cfg.tool_rounds) {
    json tools = json::array();
    for (const auto& tool : json::parse(st.def->tools_json))
      tools.push_back({{"type", "function"}, {"function", tool}});
    if (t.request.contains("workflow_id")) // shared memory inside workflows
      for (const auto& tool : json::parse(memory_tools_json()))
        tools.push_back({{"type", "function"}, {"function", tool}});
    if (!tools.empty())
      req["tools"] = tools;
  }
  return req;
}

void deliver_reply(agent_pointer self, turn& t, const std::string& content, const json& meta,
                   const json& tool_calls) {
  auto& st = self->state;
  json out = {{"response", content},
              {"conversation_id", st.conversation_id.empty() ? json(nullptr)
                                                            : json(st.conversation_id)},
              {"agent_type", st.def->id},
              {"metadata", meta},
              {"tools_used", t.tools_used},
              {"memory_writes", t.memory_writes},
              {"timestamp", log::now_rfc3339()}};
  t.rp.deliver(out.dump());
  end_turn(self);
}

void log_reply(agent_pointer self, const turn& t, const std::string& content, const json& meta) {
  bool degraded = meta.value("degraded", false);
  write_log(self, t, degraded ? "error" : "success",
            {{"model_used", meta["model_used"]},
             {"response_chars", content.size()},
             {"degraded", degraded}},
            degraded ? "no model available" : "");
}

/// Stores the reply (when the turn has a conversation), then answers.
void finish_turn(agent_pointer self, std::shared_ptr<turn> t, std::string content, json meta,
                 json tool_calls) {
  auto& st = self->state;
  if (st.conversation_id.empty()) {
    log_reply(self, *t, content, meta);
    return deliver_reply(self, *t, content, meta, tool_calls);
  }
  if (t->user_stored && t->user_error)
    return fail_turn(self, t, t->user_error); // nothing half-stored is reported as success
  if (!t->user_stored) {
    // Keeps the stored order user -> assistant: the reply waits for the user message.
    t->after_store = [self, t, content, meta, tool_calls] {
      finish_turn(self, t, content, meta, tool_calls);
    };
    return;
  }
  log_reply(self, *t, content, meta);
  json row = {{"conversation_id", st.conversation_id},
              {"role", "assistant"},
              {"content", content},
              {"agent_type", st.def->id},
              {"metadata", meta}};
  if (meta.contains("tokens_in"))
    row["tokens_in"] = meta["tokens_in"];
  if (meta.contains("tokens_out"))
    row["tokens_out"] = meta["tokens_out"];
  self->request(st.opts.db, db_timeout(st.opts.cfg), db_op_atom_v, std::string{"msg_add"},
                row.dump())
    .await(
      [self, t, content, meta, tool_calls](const std::string&) {
        self->state.history.push_back({{"role", "user"}, {"content", t->message}});
        self->state.history.push_back({{"role", "assistant"}, {"content", content}});
        deliver_reply(self, *t, content, meta, tool_calls);
      },
      [self, t](caf::error& err) { fail_turn(self, t, std::move(err)); });
}

void call_model(agent_pointer self, std::shared_ptr<turn> t);

std::string random_id() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 32; ++i)
    out += hex[rng() & 15];
  return out;
}

/// Runs the tool calls of one model answer in parallel, then asks the model again.
void run_tools(agent_pointer self, std::shared_ptr<turn> t, const std::string& content,
               json calls) {
  auto& st = self->state;
  for (size_t i = 0; i < calls.size(); ++i)
    if (!calls[i].contains("id"))
      calls[i]["id"] = "call_" + std::to_string(t->round) + "_" + std::to_string(i);
  t->extra.push_back({{"role", "assistant"}, {"content", content}, {"tool_calls", calls}});
  auto results = std::make_shared<std::vector<std::string>>(calls.size());
  auto pending = std::make_shared<size_t>(calls.size());
  auto base = t->extra.size();
  for (size_t i = 0; i < calls.size(); ++i) {
    const auto& fn = calls[i].value("function", json::object());
    auto name = fn.value("name", std::string{"unknown"});
    t->tools_used.push_back(name);
    t->extra.push_back({{"role", "tool"}, {"tool_name", name}, {"tool_call_id", calls[i]["id"]},
                        {"content", ""}});
    json call = {{"tool", name},
                 {"arguments", fn.value("arguments", json::object())},
                 {"agent_type", st.def->id},
                 {"execution_id", random_id()}};
    if (!st.conversation_id.empty())
      call["conversation_id"] = st.conversation_id;
    if (t->request.contains("workflow_id"))
      call["workflow_id"] = t->request["workflow_id"];
    auto finish_one = [self, t, results, pending, base, i, name](std::string result) {
      if (name == "remember") {
        auto r = json::parse(result, nullptr, false);
        if (r.is_object() && r.value("success", false)) {
          auto args = t->extra[base - 1]["tool_calls"][i]["function"].value("arguments", json::object());
          if (args.is_string())
            args = json::parse(args.get<std::string>(), nullptr, false);
          t->memory_writes.push_back({{"key", r["key"]}, {"scope", r["scope"]},
                                      {"version", r["version"]},
                                      {"value", args.is_object() ? args.value("value", json(nullptr)) : json(nullptr)}});
        }
      }
      t->extra[base + i]["content"] = std::move(result);
      if (--*pending == 0) {
        ++t->round;
        call_model(self, t);
      }
    };
    // The tool actor bounds every vendor call; this is only a backstop.
    self->request(st.opts.tools, std::chrono::seconds(300), tool_atom_v, call.dump())
      .await([finish_one](const std::string& result) { finish_one(result); },
             [finish_one](caf::error& err) {
               finish_one(json{{"success", false}, {"error", caf::to_string(err)}}.dump());
             });
  }
}

void call_model(agent_pointer self, std::shared_ptr<turn> t) {
  auto& st = self->state;
  auto timeout = std::chrono::seconds(st.opts.cfg.llm_timeout_s + 10);
  self->request(st.opts.llm, timeout, llm_chat_atom_v, model_request(st, *t).dump(), t->listener)
    .await(
      [self, t](const std::string& text) {
        auto r = json::parse(text);
        auto calls = r.value("tool_calls", json::array());
        if (!calls.empty() && self->state.opts.tools &&
            t->round < self->state.opts.cfg.tool_rounds)
          return run_tools(self, t, r.value("content", std::string{}), calls);
        json meta = {{"model_used", r["model"]},
                     {"degraded", false},
                     {"latency_ms", r["latency_ms"]},
                     {"tokens_in", r["tokens_in"]},
                     {"tokens_out", r["tokens_out"]}};
        finish_turn(self, t, r.value("content", std::string{}), meta, r["tool_calls"]);
      },
      [self, t](caf::error& err) {
        bool partial = err.context().size() > 1 && err.context().match_element<bool>(1) &&
                       err.context().get_as<bool>(1);
        bool no_model = err.category() == caf::atom("pixelcraft") && !partial &&
                        (err.code() == static_cast<uint8_t>(errc::unavailable) ||
                         err.code() == static_cast<uint8_t>(errc::not_found));
        if (no_model || err == caf::sec::request_receiver_down) {
          // No model: an honest answer, stored and streamed like any other.
          if (t->listener)
            caf::anon_send(t->listener, llm_chunk_atom_v, degraded_reply_text());
          json meta = {{"model_used", nullptr},
                       {"degraded", true},
                       {"latency_ms", std::chrono::duration<double, std::milli>(
                                        clock_type::now() - t->started)
                                        .count()}};
          return finish_turn(self, t, degraded_reply_text(), meta, json::array());
        }
        auto status = err == caf::sec::request_timeout ||
                          err.code() == static_cast<uint8_t>(errc::deadline_exceeded)
                        ? "timeout"
                        : "error";
        write_log(self, *t, status, json::object(), caf::to_string(err));
        fail_turn(self, t, std::move(err));
      });
}

void store_user_message(agent_pointer self, std::shared_ptr<turn> t) {
  auto& st = self->state;
  if (st.conversation_id.empty())
    return call_model(self, t);
  json row = {{"conversation_id", st.conversation_id},
              {"role", "user"},
              {"content", t->message},
              {"agent_type", st.def->id},
              {"metadata", t->request.contains("context")
                             ? json{{"context", t->request["context"]}}
                             : json::object()}};
  // Stored while the model works (not before it): the first token is not delayed by a commit.
  self->request(st.opts.db, db_timeout(st.opts.cfg), db_op_atom_v, std::string{"msg_add"},
                row.dump())
    .then(
      [t](const std::string&) {
        t->user_stored = true;
        if (auto next = std::move(t->after_store)) {
          t->after_store = nullptr;
          next();
        }
      },
      [self, t](caf::error& err) {
        t->user_stored = true;
        t->user_error = err;
        if (auto next = std::move(t->after_store)) {
          t->after_store = nullptr;
          next(); // fails the turn: see finish_turn
        }
      });
  call_model(self, t);
}

agent_actor::behavior_type agent_fn(agent_pointer self, const agent_def* def,
                                    std::string conversation_id, agent_registry_options opts) {
  auto& st = self->state;
  st.def = def;
  st.conversation_id = std::move(conversation_id);
  st.opts = std::move(opts);
  self->set_exit_handler([self](caf::exit_msg& em) {
    for (auto& w : self->state.open_turns)
      if (auto t = w.lock(); t && t->rp.pending())
        t->rp.deliver(caf::make_error(errc::unavailable, "shutting down"));
    self->quit(em.reason);
  });
  return {
    [self](chat_atom, const std::string& request,
           caf::actor& listener) -> caf::result<std::string> {
      auto& st = self->state;
      auto t = std::make_shared<turn>();
      t->request = json::parse(request, nullptr, false);
      t->listener = listener;
      t->rp = self->make_response_promise<std::string>();
      t->message = t->request.value("message", std::string{});
      auto rp = t->rp;
      auto& open = st.open_turns;
      open.erase(std::remove_if(open.begin(), open.end(), [](auto& w) { return w.expired(); }),
                 open.end());
      open.push_back(t);
      auto idle = ++st.generation;
      self->delayed_send(self, std::chrono::seconds(st.opts.cfg.agent_idle_s), idle_atom_v, idle);
      if (t->request.value("new_conversation", false))
        st.loaded = true; // created by this request: nothing to load
      if (st.conversation_id.empty() || st.loaded) {
        store_user_message(self, t);
        return rp;
      }
      // First turn of this actor: load the conversation's memory (survives restarts).
      json args = {{"conversation_id", st.conversation_id},
                   {"limit", std::max(1u, st.opts.cfg.history_turns) * 2}};
      self->request(st.opts.db, db_timeout(st.opts.cfg), db_op_atom_v,
                    std::string{"conv_recent"}, args.dump())
        .await(
          [self, t](const std::string& text) {
            auto& st = self->state;
            auto recent = json::parse(text);
            for (auto& m : recent["messages"])
              st.history.push_back({{"role", m["role"]}, {"content", m["content"]}});
            st.loaded = true;
            store_user_message(self, t);
          },
          [self, t](caf::error& err) { fail_turn(self, t, std::move(err)); });
      return rp;
    },
    [self](idle_atom, uint64_t generation) {
      if (generation == self->state.generation)
        self->quit(); // passivated: memory lives in the database
    },
  };
}

struct registry_state {
  agent_registry_options opts;
  std::map<std::string, agent_actor> agents; ///< key: agent id + '\n' + conversation id
  std::map<caf::actor_addr, std::string> keys;
  static inline const char* name = "pixelcraft.agent-registry";
};

using registry_pointer = agent_registry_actor::stateful_pointer<registry_state>;

agent_registry_actor::behavior_type registry_fn(registry_pointer self,
                                                agent_registry_options opts) {
  self->state.opts = std::move(opts);
  // Agents are linked to us so that our exit ends them; their own crashes reach us as exit
  // messages too, which must not take the registry down (the down handler cleans up).
  self->set_exit_handler([self](caf::exit_msg& em) {
    if (self->state.keys.count(em.source) == 0)
      self->quit(em.reason);
  });
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& st = self->state;
    auto it = st.keys.find(dm.source);
    if (it == st.keys.end())
      return;
    if (dm.reason && dm.reason != caf::exit_reason::user_shutdown)
      log::warn(component, "agent actor crashed; the next message gets a fresh one",
                {{"agent", it->second.substr(0, it->second.find('\n'))},
                 {"error", caf::to_string(dm.reason)}});
    auto found = st.agents.find(it->second);
    if (found != st.agents.end() && found->second.address() == dm.source)
      st.agents.erase(found);
    st.keys.erase(it);
  });
  return {
    [self](chat_atom a, std::string& request,
           caf::actor& listener) -> caf::result<std::string> {
      auto& st = self->state;
      auto req = json::parse(request, nullptr, false);
      if (!req.is_object())
        return caf::make_error(errc::invalid_argument, "malformed turn");
      const auto* def = st.opts.catalog->find(req.value("agent_type", std::string{"chat"}));
      if (!def)
        return caf::make_error(errc::not_found, "unknown agent");
      auto conversation = req.value("conversation_id", std::string{});
      if (conversation.empty()) {
        auto one_shot = self->spawn<caf::monitored + caf::linked>(agent_fn, def, std::string{}, st.opts);
        st.keys[one_shot.address()] = def->id + "\n";
        // The one-shot actor ends after its reply (idle timer) or with us.
        return self->delegate(one_shot, a, std::move(request), std::move(listener));
      }
      auto key = def->id + "\n" + conversation;
      auto it = st.agents.find(key);
      if (it == st.agents.end()) {
        auto actor = self->spawn<caf::monitored + caf::linked>(agent_fn, def, conversation, st.opts);
        st.keys[actor.address()] = key;
        it = st.agents.emplace(key, actor).first;
      }
      return self->delegate(it->second, a, std::move(request), std::move(listener));
    },
    [self](forget_atom, const std::string& conversation) {
      auto& st = self->state;
      for (auto it = st.agents.begin(); it != st.agents.end();) {
        if (it->first.substr(it->first.find('\n') + 1) == conversation) {
          self->send_exit(it->second, caf::exit_reason::user_shutdown);
          it = st.agents.erase(it);
        } else {
          ++it;
        }
      }
    },
    [self](agents_atom) {
      json counts = json::object();
      for (const auto& a : self->state.opts.catalog->all())
        counts[a.id] = 0;
      for (const auto& [addr, key] : self->state.keys)
        counts[key.substr(0, key.find('\n'))] = counts[key.substr(0, key.find('\n'))].get<int>() + 1;
      return counts.dump();
    },
  };
}

} // namespace

const std::string& degraded_reply_text() {
  static const std::string text =
    "I'm sorry, the assistant is unavailable right now, so I can't give you a proper answer. "
    "Your message has been saved. Please try again in a few minutes, or leave your email and "
    "the PixelCraft team will get back to you.";
  return text;
}

agent_registry_actor spawn_agent_registry(caf::actor_system& sys, agent_registry_options opts) {
  return sys.spawn(registry_fn, std::move(opts));
}

} // namespace pixelcraft
