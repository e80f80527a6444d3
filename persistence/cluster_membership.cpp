#include "persistence/cluster_membership.hpp"

#include "actors/errc.hpp"
#include "actors/log.hpp"
#include "persistence/detail.hpp"
#include "persistence/migrations.hpp"

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include <memory>

namespace pixelcraft::persistence {

namespace {

constexpr const char* component = "pixelcraft.cluster";

struct membership_state {
  std::string dsn;
  unsigned statement_timeout_ms = 5000;
  std::unique_ptr<pqxx::connection> conn;
  static inline const char* name = "pixelcraft.membership";
};

using membership_pointer = membership_actor::stateful_pointer<membership_state>;

/// Runs `fn` on the connection (opened when missing); a failure drops the connection, so the
/// next beat reconnects. Errors become `errc::unavailable`: a beat is retried a second later.
template <class T, class F> caf::result<T> with_connection(membership_pointer self, F fn) {
  auto& st = self->state;
  try {
    // A connection the server closed meanwhile (it restarted) is replaced before a statement
    // runs on it: libpqxx 6.4 leaks the result of a statement that fails that way.
    if (st.conn && detail::closed_while_idle(*st.conn))
      st.conn.reset();
    if (!st.conn) {
      st.conn = std::make_unique<pqxx::connection>(with_connect_timeout(st.dsn, 3));
      {
        pqxx::nontransaction n{*st.conn};
        n.exec("SET statement_timeout = " + std::to_string(st.statement_timeout_ms));
        n.exec("SET idle_in_transaction_session_timeout = " +
               std::to_string(st.statement_timeout_ms)); // as the pool's (pg_pool.cpp)
      }
      detail::migrate(*st.conn);
    }
    return fn(*st.conn);
  } catch (const std::exception& e) {
    st.conn.reset();
    log::debug(component, "membership database call failed", {{"error", e.what()}});
    return caf::make_error(errc::unavailable, "database unavailable");
  }
}

} // namespace

membership_actor spawn_membership(caf::actor_system& sys, std::string dsn,
                                  unsigned statement_timeout_ms) {
  return sys.spawn<caf::detached>(
      [](membership_pointer self, std::string dsn,
         unsigned timeout_ms) -> membership_actor::behavior_type {
        self->state.dsn = std::move(dsn);
        self->state.statement_timeout_ms = timeout_ms;
        return {
            [self](beat_atom, const node_ref& me,
                   const node_load& load) -> caf::result<std::vector<node_row>> {
              return with_connection<std::vector<node_row>>(self, [&](pqxx::connection& c) {
                pqxx::work w{c};
                nlohmann::json l = {{"executions", load.executions},
                                    {"agents", load.agents},
                                    {"llm_in_flight", load.llm_in_flight}};
                w.exec_params(
                    "INSERT INTO cluster_nodes (incarnation, name, role, host, port, wire_version,"
                    " load) VALUES ($1::uuid, $2, $3, $4, $5, $6, $7::jsonb)"
                    " ON CONFLICT (incarnation) DO UPDATE SET load = EXCLUDED.load,"
                    " seen_at = now()",
                    me.incarnation, me.name, me.role, me.host, me.port, me.wire, l.dump());
                w.exec("DELETE FROM cluster_nodes WHERE seen_at < now() - interval '1 hour'");
                auto rows = w.exec(
                    "SELECT incarnation::text, name, role, host, port, wire_version,"
                    " coalesce((load->>'executions')::int, 0),"
                    " coalesce((load->>'agents')::int, 0),"
                    " coalesce((load->>'llm_in_flight')::int, 0),"
                    " (extract(epoch FROM now() - seen_at) * 1000)::bigint,"
                    " to_char(seen_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
                    " FROM cluster_nodes WHERE seen_at > now() - interval '1 minute'"
                    " ORDER BY name, started_at");
                w.commit();
                std::vector<node_row> out;
                for (const auto& r : rows) {
                  node_row x;
                  x.node.incarnation = r[0].as<std::string>();
                  x.node.name = r[1].as<std::string>();
                  x.node.role = r[2].as<std::string>();
                  x.node.host = r[3].as<std::string>();
                  x.node.port = r[4].as<int32_t>();
                  x.node.wire = r[5].as<int32_t>();
                  x.load.executions = r[6].as<int32_t>();
                  x.load.agents = r[7].as<int32_t>();
                  x.load.llm_in_flight = r[8].as<int32_t>();
                  x.seen_ms_ago = r[9].as<int64_t>();
                  x.last_seen = r[10].as<std::string>();
                  out.push_back(std::move(x));
                }
                return out;
              });
            },
            [self](release_atom, const std::string& owner) -> caf::result<int32_t> {
              return with_connection<int32_t>(self, [&](pqxx::connection& c) {
                pqxx::work w{c};
                auto r = w.exec_params(
                    "UPDATE workflow_executions SET lease_expires_at = now() - interval '1 second'"
                    " WHERE lease_owner = $1 AND lease_expires_at > now()",
                    owner);
                w.commit();
                return static_cast<int32_t>(r.affected_rows());
              });
            },
            [self](release_atom, const std::string& incarnation, bool) -> caf::result<int32_t> {
              return with_connection<int32_t>(self, [&](pqxx::connection& c) {
                pqxx::work w{c};
                auto r = w.exec_params("DELETE FROM cluster_nodes WHERE incarnation = $1::uuid",
                                       incarnation);
                w.commit();
                return static_cast<int32_t>(r.affected_rows());
              });
            },
        };
      },
      std::move(dsn), statement_timeout_ms);
}

} // namespace pixelcraft::persistence
