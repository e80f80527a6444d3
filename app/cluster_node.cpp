#include "app/cluster_node.hpp"

#include "actors/deadline.hpp"
#include "actors/errc.hpp"
#include "actors/log.hpp"
#include "persistence/cluster_membership.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/openssl/publish.hpp>
#include <caf/openssl/remote_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <nlohmann/json.hpp>

#include <map>

namespace pixelcraft::app {

namespace {

constexpr const char* component = "pixelcraft.cluster";
using json = nlohmann::json;
using clock = std::chrono::steady_clock;

/// What a dial brought: the peer's agent, or why not (local only).
using cluster_impl = cluster_actor::extend<
    caf::reacts_to<beat_atom>,                                  // the heartbeat timer
    caf::reacts_to<place_atom, workflow_manager_actor>,         // attach_manager
    caf::replies_to<dialed_atom>::with<node_agent_actor>,       // listen: the agent to publish
    caf::reacts_to<dialed_atom, std::string, node_agent_actor>, // a dial succeeded
    caf::reacts_to<dialed_atom, std::string, std::string>,      // a dial failed: incarnation, why
    caf::reacts_to<dialed_atom, node_ref, node_agent_actor>,    // a peer dialled us: link back
    caf::replies_to<release_atom>::with<int32_t>>;              // leave (shutdown)

struct peer {
  node_row row;
  node_agent_actor agent; ///< linked: hello answered, monitored
  bool dialing = false;
  clock::time_point next_dial{};
  int failures = 0;
  bool released = false; ///< its leases were released after it stopped beating
  std::string refused;   ///< why it is never dialled (another wire version)
  bool linked() const { return static_cast<bool>(agent); }
};

struct cluster_state {
  cluster_options opts;
  persistence::membership_actor membership;
  workflow_manager_actor manager;
  node_agent_actor agent;
  std::map<std::string, peer> peers; ///< by incarnation
  node_load load;
  std::string last_seen;                 ///< this node's own last beat
  std::map<std::string, int32_t> placed; ///< executions placed since the peer's last beat
  static inline const char* name = "pixelcraft.cluster";
};

using cluster_pointer = cluster_impl::stateful_pointer<cluster_state>;

node_agent_actor::behavior_type agent_fn(node_agent_actor::pointer self, workflow_manager_actor mgr,
                                         agent_registry_actor agents, event_bus_actor hub,
                                         node_ref me, caf::actor cluster) {
  // Peers' requests go to the manager as they came (their sender stays the peer's), so the
  // manager answers them for executions it runs and never forwards them again.
  return {
      [=](wf_start_atom a, const run_spec& spec) { return self->delegate(mgr, a, spec); },
      [=](wf_action_atom a, const std::string& id, const std::string& action) {
        return self->delegate(mgr, a, id, action);
      },
      [=](wf_wait_atom a, const std::string& id, uint32_t s) {
        return self->delegate(mgr, a, id, s);
      },
      [=](wf_msg_atom a, const std::string& id, const outgoing_message& m) {
        return self->delegate(mgr, a, id, m);
      },
      [=](wf_approval_atom a, const std::string& id) { self->send(mgr, a, id); },
      [=](wf_run_atom a, const std::string& id) { self->send(mgr, a, id); },
      [=](release_atom a, const std::string& owner) { self->send(mgr, a, owner); },
      [=](peers_atom a) { return self->delegate(mgr, a); },
      [=](hello_atom, const node_ref& them,
          const caf::actor& their_agent) -> caf::result<node_ref> {
        if (them.wire != wire_version)
          return caf::make_error(errc::failed_precondition,
                                 "wire version " + std::to_string(them.wire) + ", this node " +
                                     std::to_string(wire_version));
        log::info(component, "peer said hello", {{"peer", them.name}, {"id", them.incarnation}});
        // Link back over the connection the peer opened.
        self->send(caf::actor_cast<cluster_impl>(cluster), dialed_atom_v, them,
                   caf::actor_cast<node_agent_actor>(their_agent));
        return me;
      },
      [=](wf_event_atom a, const std::string& id, const run_event& e) {
        if (hub)
          self->send(hub, a, id, e);
      },
      // The reply goes from the registry straight to the peer that asked (delegation).
      [=](chat_atom a, agent_turn& turn, caf::actor& listener) {
        return self->delegate(agents, a, std::move(turn), std::move(listener));
      },
      [=](forget_atom a, const std::string& conversation) { self->send(agents, a, conversation); },
  };
}

std::string status_of(const cluster_state& st, const peer& p) {
  if (!p.refused.empty())
    return "down";
  auto age = std::chrono::milliseconds(p.row.seen_ms_ago);
  if (age >= st.opts.down_after)
    return "down";
  if (age >= st.opts.suspect_after)
    return "suspect";
  // A node with a listener is up only while we hold a link to it (when we link at all).
  bool needs_link = st.opts.link && p.row.node.port > 0;
  return !needs_link || p.linked() ? "up" : "suspect";
}

void dial(cluster_pointer self, peer& p) {
  p.dialing = true;
  auto host = p.row.node.host;
  auto port = static_cast<uint16_t>(p.row.node.port);
  auto inc = p.row.node.incarnation;
  auto me = caf::actor_cast<cluster_impl>(self);
  // remote_actor blocks (TCP, then TLS, then CAF's handshake): on a thread of its own.
  self->system().spawn<caf::detached>([me, host, port, inc](caf::event_based_actor* d) {
    auto r = caf::openssl::remote_actor<node_agent_actor>(d->system(), host, port);
    if (r)
      caf::anon_send(me, dialed_atom_v, inc, *r);
    else
      caf::anon_send(me, dialed_atom_v, inc, caf::to_string(r.error()));
    d->quit();
  });
}

void dial_failed(cluster_pointer self, peer& p, const std::string& why) {
  p.dialing = false;
  ++p.failures;
  auto backoff = std::chrono::milliseconds(std::min(10000, 500 * (1 << std::min(p.failures, 5))));
  p.next_dial = clock::now() + backoff;
  log::warn(component, "cannot link to peer",
            {{"peer", p.row.node.name},
             {"address", p.row.node.host + ":" + std::to_string(p.row.node.port)},
             {"error", why}});
}

/// After a beat: dial new peers, release the leases of peers that stopped beating.
void update(cluster_pointer self, std::vector<node_row>& rows) {
  auto& st = self->state;
  std::map<std::string, bool> seen;
  for (auto& row : rows) {
    if (row.node.incarnation == st.opts.self.incarnation) {
      st.last_seen = row.last_seen;
      continue;
    }
    seen[row.node.incarnation] = true;
    auto& p = st.peers[row.node.incarnation];
    p.row = std::move(row);
    st.placed.erase(p.row.node.incarnation);
    if (p.row.node.wire != wire_version) {
      if (p.refused.empty())
        log::warn(component, "peer of another wire version refused",
                  {{"peer", p.row.node.name}, {"wire_version", p.row.node.wire}});
      p.refused = "wire version " + std::to_string(p.row.node.wire);
      continue;
    }
    auto age = std::chrono::milliseconds(p.row.seen_ms_ago);
    if (age < st.opts.suspect_after) {
      p.released = false;
      // One side dials (the smaller incarnation); the other links back on its hello.
      if (st.opts.link && !p.linked() && !p.dialing && p.row.node.port > 0 &&
          !p.row.node.host.empty() && clock::now() >= p.next_dial &&
          st.opts.self.incarnation < p.row.node.incarnation)
        dial(self, p);
    } else if (!p.released && p.row.node.runs_workflows()) {
      // It died, froze or was cut off: its executions resume on the live nodes now. If it
      // comes back, its epoch is stale and its next save or renewal stops it.
      p.released = true;
      auto owner = p.row.node.owner();
      if (st.manager)
        self->send(st.manager, release_atom_v, owner);
      self->request(st.membership, deadlines::db(st.opts.db_timeout_ms), release_atom_v, owner)
          .then(
              [self, owner](int32_t n) {
                log::warn(component, "peer stopped beating: its executions resume elsewhere",
                          {{"owner", owner}, {"released", n}});
                if (self->state.manager)
                  self->send(self->state.manager, wf_run_atom_v, std::string{});
              },
              [self, inc = p.row.node.incarnation](caf::error&) {
                if (auto it = self->state.peers.find(inc); it != self->state.peers.end())
                  it->second.released = false; // retried at the next beat
              });
    }
  }
  // Rows gone (a minute without a beat, or a clean shutdown) and no link: forget them.
  for (auto it = st.peers.begin(); it != st.peers.end();)
    if (!seen.count(it->first) && !it->second.linked() && !it->second.dialing)
      it = st.peers.erase(it);
    else
      ++it;
}

json node_json(const cluster_state& st) {
  json peers = json::array();
  for (const auto& [inc, p] : st.peers) {
    json x = {{"name", p.row.node.name},
              {"id", inc},
              {"address", p.row.node.port > 0
                              ? p.row.node.host + ":" + std::to_string(p.row.node.port)
                              : std::string{}},
              {"role", p.row.node.role},
              {"status", status_of(st, p)},
              {"last_seen", p.row.last_seen},
              {"load",
               {{"executions", p.row.load.executions},
                {"agents", p.row.load.agents},
                {"llm_in_flight", p.row.load.llm_in_flight}}}};
    if (!p.refused.empty())
      x["refused"] = p.refused;
    peers.push_back(std::move(x));
  }
  return {{"id", st.opts.self.incarnation},
          {"name", st.opts.self.name},
          {"role", st.opts.self.role},
          {"address", st.opts.self.port > 0
                          ? st.opts.self.host + ":" + std::to_string(st.opts.self.port)
                          : std::string{}},
          {"wire_version", wire_version},
          {"load",
           {{"executions", st.load.executions},
            {"agents", st.load.agents},
            {"llm_in_flight", st.load.llm_in_flight}}},
          {"peers", std::move(peers)}};
}

cluster_impl::behavior_type cluster_fn(cluster_pointer self, cluster_options opts) {
  auto& st = self->state;
  st.opts = std::move(opts);
  st.membership = persistence::spawn_membership(self->system(), st.opts.dsn, st.opts.db_timeout_ms);
  self->link_to(st.membership);
  self->set_down_handler([self](caf::down_msg& dm) {
    for (auto& [inc, p] : self->state.peers)
      if (p.agent && p.agent.address() == dm.source) {
        log::warn(component, "link to peer lost",
                  {{"peer", p.row.node.name}, {"reason", caf::to_string(dm.reason)}});
        p.agent = nullptr;
        p.next_dial = clock::now() + std::chrono::milliseconds(500);
        // Requests in flight to it fail now (CAF would let them run to their timeout).
        if (self->state.manager)
          self->send(self->state.manager, release_atom_v, p.row.node.owner());
      }
  });
  self->send(self, beat_atom_v);
  return {
      [self](beat_atom) {
        auto& st = self->state;
        self->delayed_send(self, st.opts.beat, beat_atom_v);
        auto beat = [self] {
          auto& st = self->state;
          self->request(st.membership, deadlines::db(st.opts.db_timeout_ms), beat_atom_v,
                        st.opts.self, st.load)
              .then([self](std::vector<node_row>& rows) { update(self, rows); },
                    [](caf::error& err) {
                      log::debug(component, "beat failed", {{"error", caf::to_string(err)}});
                    });
        };
        // The agents' and the model's counts arrive for the next beat (a second old at most).
        if (st.opts.agents)
          self->request(st.opts.agents, std::chrono::milliseconds(500), load_atom_v)
              .then([self](int32_t n) { self->state.load.agents = n; }, [](caf::error&) {});
        if (st.opts.llm)
          self->request(st.opts.llm, std::chrono::milliseconds(500), load_atom_v)
              .then([self](int32_t n) { self->state.load.llm_in_flight = n; }, [](caf::error&) {});
        if (!st.manager)
          return beat();
        self->request(st.manager, std::chrono::milliseconds(500), peers_atom_v)
            .then(
                [self, beat](node_load& l) {
                  self->state.load.executions = l.executions;
                  beat();
                },
                [beat](caf::error&) { beat(); });
      },
      [self](place_atom, workflow_manager_actor& mgr) {
        auto& st = self->state;
        st.manager = mgr;
        st.agent = self->spawn<caf::linked>(agent_fn, mgr, st.opts.agents, st.opts.hub,
                                            st.opts.self, caf::actor_cast<caf::actor>(self));
      },
      [self](dialed_atom) -> caf::result<node_agent_actor> {
        if (!self->state.agent)
          return caf::make_error(errc::failed_precondition, "no workflow manager attached");
        return self->state.agent;
      },
      [self](dialed_atom, const std::string& inc, node_agent_actor& agent) {
        auto& st = self->state;
        auto it = st.peers.find(inc);
        if (it == st.peers.end())
          return;
        auto& p = it->second;
        self->request(agent, std::chrono::seconds(5), hello_atom_v, st.opts.self,
                      caf::actor_cast<caf::actor>(st.agent))
            .then(
                [self, inc, agent](const node_ref& them) {
                  auto it = self->state.peers.find(inc);
                  if (it == self->state.peers.end())
                    return;
                  auto& p = it->second;
                  p.dialing = false;
                  if (them.incarnation != inc) {
                    // The address now belongs to another process (a restart): its own row
                    // will be dialled; this one is gone.
                    return dial_failed(self, p, "another process answers at that address");
                  }
                  p.agent = agent;
                  p.failures = 0;
                  self->monitor(agent);
                  log::info(component, "linked to peer",
                            {{"peer", them.name}, {"id", them.incarnation}, {"role", them.role}});
                },
                [self, inc](caf::error& err) {
                  if (auto it = self->state.peers.find(inc); it != self->state.peers.end())
                    dial_failed(self, it->second, "hello: " + caf::to_string(err));
                });
        (void)p;
      },
      [self](dialed_atom, const node_ref& them, node_agent_actor& agent) {
        auto& p = self->state.peers[them.incarnation];
        if (p.row.node.incarnation.empty())
          p.row.node = them; // before its first beat reached us
        if (p.linked())
          return;
        p.agent = agent;
        p.failures = 0;
        self->monitor(agent);
        log::info(component, "linked to peer",
                  {{"peer", them.name}, {"id", them.incarnation}, {"role", them.role}});
      },
      [self](dialed_atom, const std::string& inc, const std::string& why) {
        if (auto it = self->state.peers.find(inc); it != self->state.peers.end())
          dial_failed(self, it->second, why);
      },
      [self](wf_event_atom a, const std::string& id, const run_event& e) {
        auto& st = self->state;
        if (st.opts.hub)
          self->send(st.opts.hub, a, id, e);
        for (auto& [inc, p] : st.peers)
          if (p.linked())
            self->send(p.agent, a, id, e);
      },
      [self](peers_atom) { return node_json(self->state).dump(); },
      [self](release_atom) -> caf::result<int32_t> {
        // Leaving cleanly (the manager has stopped its runs): our executions resume on the
        // other nodes at once, and our row goes.
        auto& st = self->state;
        auto rp = self->make_response_promise<int32_t>();
        auto t = deadlines::db(st.opts.db_timeout_ms);
        self->request(st.membership, t, release_atom_v, st.opts.self.owner())
            .then(
                [self, rp, t](int32_t n) mutable {
                  self->request(self->state.membership, t, release_atom_v,
                                self->state.opts.self.incarnation, true)
                      .then([rp, n](int32_t) mutable { rp.deliver(n); },
                            [rp, n](caf::error&) mutable { rp.deliver(n); });
                },
                [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
        return rp;
      },
      [self](owner_atom, const std::string& owner) -> caf::result<workflow_manager_actor> {
        for (auto& [inc, p] : self->state.peers)
          if (p.linked() && p.row.node.owner() == owner)
            return caf::actor_cast<workflow_manager_actor>(p.agent);
        return caf::make_error(errc::unavailable, "no link to " + owner);
      },
      [self](home_atom, const std::string& conversation) {
        auto& st = self->state;
        node_agent_actor home; // invalid: here
        bool any = st.opts.self.runs_workflows();
        uint64_t best = any ? home_score(st.opts.self.name, conversation) : 0;
        for (auto& [inc, p] : st.peers) {
          if (!p.linked() || !p.row.node.runs_workflows() || status_of(st, p) != "up")
            continue;
          auto score = home_score(p.row.node.name, conversation);
          if (!any || score > best) {
            any = true;
            best = score;
            home = p.agent;
          }
        }
        return home;
      },
      [self](forget_atom a, const std::string& conversation) {
        for (auto& [inc, p] : self->state.peers)
          if (p.linked())
            self->send(p.agent, a, conversation);
      },
      [self](place_atom) -> caf::result<workflow_manager_actor> {
        auto& st = self->state;
        peer* best = nullptr;
        int32_t best_load = 0;
        for (auto& [inc, p] : st.peers) {
          if (!p.linked() || !p.row.node.runs_workflows() || status_of(st, p) != "up")
            continue;
          auto load = p.row.load.executions + st.placed[inc];
          if (!best || load < best_load) {
            best = &p;
            best_load = load;
          }
        }
        if (!best)
          return caf::make_error(errc::unavailable, "no worker linked");
        ++st.placed[best->row.node.incarnation];
        return caf::actor_cast<workflow_manager_actor>(best->agent);
      },
  };
}

} // namespace

cluster_actor spawn_cluster(caf::actor_system& sys, cluster_options opts) {
  return caf::actor_cast<cluster_actor>(sys.spawn(cluster_fn, std::move(opts)));
}

void attach_manager(const cluster_actor& cluster, const workflow_manager_actor& manager) {
  caf::anon_send(caf::actor_cast<cluster_impl>(cluster), place_atom_v, manager);
}

int leave(caf::actor_system& sys, const cluster_actor& cluster, std::chrono::milliseconds timeout) {
  caf::scoped_actor self{sys};
  int released = 0;
  self->request(caf::actor_cast<cluster_impl>(cluster), timeout, release_atom_v)
      .receive([&](int32_t n) { released = n; },
               [&](caf::error& err) {
                 log::warn(component, "leaving the cluster: row not removed",
                           {{"error", caf::to_string(err)}});
               });
  return released;
}

std::string listen(caf::actor_system& sys, const cluster_actor& cluster, uint16_t port,
                   const std::string& bind_host) {
  caf::scoped_actor self{sys};
  std::string error;
  self->request(caf::actor_cast<cluster_impl>(cluster), std::chrono::seconds(5), dialed_atom_v)
      .receive(
          [&](node_agent_actor& agent) {
            // reuse_addr: a restarted node binds again at once despite TIME_WAIT.
            auto r = caf::openssl::publish(agent, port,
                                           bind_host.empty() ? nullptr : bind_host.c_str(), true);
            if (!r)
              error = caf::to_string(r.error());
          },
          [&](caf::error& err) { error = caf::to_string(err); });
  return error;
}

} // namespace pixelcraft::app
