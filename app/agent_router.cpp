#include "app/agent_router.hpp"

#include "actors/deadline.hpp"
#include "actors/errc.hpp"
#include "actors/log.hpp"

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <map>
#include <set>
#include <string>

namespace pixelcraft::app {

namespace {

constexpr const char* component = "pixelcraft.cluster";

struct router_state {
  agent_router_options opts;
  /// Turns waiting on each peer's node agent, by a key of ours: failed at once if it goes.
  std::map<caf::actor_addr, std::map<uint64_t, caf::typed_response_promise<agent_reply>>> waiting;
  std::set<caf::actor_addr> monitored; ///< peers' agents monitored (once each)
  uint64_t next = 0;
  static inline const char* name = "pixelcraft.agent-router";
};

using router_pointer = agent_registry_actor::stateful_pointer<router_state>;

/// What routing needs from a turn: its conversation (empty: not a conversation's turn) and the
/// budget it carries.
struct turn_facts {
  std::string conversation;
  deadlines::ms budget{0};
};

turn_facts facts_of(const agent_turn& turn, unsigned request_timeout_s) {
  turn_facts f;
  f.budget = deadlines::inner(deadlines::http_request(request_timeout_s));
  if (turn.workflow_id.empty())
    f.conversation = turn.conversation_id;
  if (turn.budget_ms >= 0)
    f.budget = std::min(deadlines::max_budget, deadlines::ms(turn.budget_ms));
  return f;
}

void forward(router_pointer self, node_agent_actor home,
             caf::typed_response_promise<agent_reply> rp, agent_turn turn, caf::actor listener,
             deadlines::ms budget) {
  auto& st = self->state;
  auto addr = home.address();
  auto& waiting = st.waiting[addr];
  if (waiting.size() >= max_requests_per_peer) {
    rp.deliver(caf::make_error(errc::unavailable,
                               "the node serving this conversation is busy; retry shortly"));
    return;
  }
  if (st.monitored.insert(addr).second)
    self->monitor(home);
  auto key = st.next++;
  waiting.emplace(key, rp);
  // Answered once: by the peer, by its timeout, or by the down handler (which drops the key).
  auto settle = [self, addr, key](auto&& deliver) {
    auto it = self->state.waiting.find(addr);
    if (it == self->state.waiting.end())
      return;
    auto found = it->second.find(key);
    if (found == it->second.end())
      return;
    deliver(found->second);
    it->second.erase(found);
  };
  self->request(home, budget + deadlines::margin / 2, chat_atom_v, std::move(turn), listener)
      .then(
          [settle](agent_reply& reply) mutable {
            settle([&](auto& p) { p.deliver(std::move(reply)); });
          },
          [settle](caf::error& err) mutable {
            settle([&](auto& p) { p.deliver(std::move(err)); });
          });
}

agent_registry_actor::behavior_type router_fn(router_pointer self, agent_router_options opts) {
  self->state.opts = std::move(opts);
  self->set_down_handler([self](caf::down_msg& dm) {
    self->state.monitored.erase(dm.source);
    auto it = self->state.waiting.find(dm.source);
    if (it == self->state.waiting.end())
      return;
    auto lost = std::move(it->second);
    self->state.waiting.erase(it);
    if (!lost.empty())
      log::warn(component, "link lost with turns in flight; they fail now",
                {{"turns", lost.size()}});
    for (auto& [key, rp] : lost)
      rp.deliver(
          caf::make_error(errc::unavailable, "the node serving this conversation was lost; retry"));
  });
  return {
      [self](chat_atom a, agent_turn& turn, caf::actor& listener) -> caf::result<agent_reply> {
        auto& st = self->state;
        auto facts = facts_of(turn, st.opts.request_timeout_s);
        if (facts.conversation.empty())
          return self->delegate(st.opts.local, a, std::move(turn), std::move(listener));
        auto rp = self->make_response_promise<agent_reply>();
        self->request(st.opts.cluster, deadlines::peer, home_atom_v, facts.conversation)
            .then(
                [self, rp, a, turn, listener, facts](node_agent_actor& home) mutable {
                  if (!home)
                    rp.delegate(self->state.opts.local, a, std::move(turn), std::move(listener));
                  else
                    forward(self, home, rp, std::move(turn), std::move(listener), facts.budget);
                },
                [self, rp, a, turn, listener](caf::error&) mutable {
                  rp.delegate(self->state.opts.local, a, std::move(turn), std::move(listener));
                });
        return rp;
      },
      [self](forget_atom a, const std::string& conversation) {
        self->send(self->state.opts.local, a, conversation);
        self->send(self->state.opts.cluster, a, conversation);
      },
      [self](agent_peer_atom a, const std::string& agent, const std::string& workflow) {
        return self->delegate(self->state.opts.local, a, agent, workflow);
      },
      [self](agents_atom a) { return self->delegate(self->state.opts.local, a); },
      [self](load_atom a) { return self->delegate(self->state.opts.local, a); },
  };
}

} // namespace

agent_registry_actor spawn_agent_router(caf::actor_system& sys, agent_router_options opts) {
  return sys.spawn(router_fn, std::move(opts));
}

} // namespace pixelcraft::app
