// The cluster (API.md §14): three processes on loopback, a gateway and two workers, joined by
// CAF remoting over mutual TLS with certificates the test makes (scripts/cluster-certs.sh),
// one database, the fake model. Runs alone (RUN_SERIAL): it kills and freezes processes and
// measures recovery times.
#include "actors/cluster/protocol.hpp"
#include "tests/fakes/fake_llm.hpp"
#include "tests/integration/server_fixture.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/tcp_relay.hpp"
#include "tests/support/ws_client.hpp"

#include <netinet/in.h>
#include <pqxx/pqxx>
#include <sys/socket.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>
#include <signal.h>
#include <sstream>
#include <thread>
#include <unistd.h>

namespace pixelcraft::test {
namespace {

/// A free TCP port on 127.0.0.1 below 32768: the kernel hands out the ports above it to
/// outgoing connections, and one taken between our check and the node's bind failed a run
/// (CLUSTER-NOTES §8). Tried from a random start; the listener binds with reuse_addr.
int free_port() {
  static unsigned seed = static_cast<unsigned>(::getpid());
  for (int attempt = 0; attempt < 2000; ++attempt) {
    int port = 20000 + static_cast<int>(rand_r(&seed) % 12000);
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port));
    bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
    ::close(fd);
    if (ok)
      return port;
  }
  return 0;
}

/// A network namespace joined to ours by a veth pair (`host_ip` here, `ns_ip` there), for a
/// worker whose links the test cuts for real. Needs root (CI runs as root); `ok` says if made.
struct netns {
  std::string name, host_if, ns_if, host_ip, ns_ip;
  bool ok = false;

  netns() {
    auto id = std::to_string(::getpid() % 100000);
    name = "pxns" + id;
    host_if = "pxh" + id;
    ns_if = "pxn" + id;
    auto net = "10.213." + std::to_string(::getpid() % 250) + ".";
    host_ip = net + "1";
    ns_ip = net + "2";
    // A run killed before its teardown may have left them behind: start clean.
    sh("ip link del " + host_if);
    sh("ip netns del " + name);
    ok =
        ::geteuid() == 0 &&
        sh("ip netns add " + name + " && ip netns exec " + name + " ip link set lo up" +
           " && ip link add " + host_if + " type veth peer name " + ns_if + " && ip link set " +
           ns_if + " netns " + name + " && ip addr add " + host_ip + "/24 dev " + host_if +
           " && ip link set " + host_if + " up && ip netns exec " + name + " ip addr add " + ns_ip +
           "/24 dev " + ns_if + " && ip netns exec " + name + " ip link set " + ns_if + " up");
  }
  ~netns() {
    sh("ip link del " + host_if);
    sh("ip netns del " + name);
  }
  /// Cuts (or restores) the link: packets are dropped, no connection is told.
  bool set_link(bool up) { return sh("ip link set " + host_if + (up ? " up" : " down")); }
  static bool sh(const std::string& cmd) {
    return std::system((cmd + " >/dev/null 2>&1").c_str()) == 0;
  }
};

/// `dsn` (libpq key=value) with another host and port.
std::string dsn_via(const std::string& dsn, const std::string& host, int port) {
  std::istringstream in{dsn};
  std::string out, kv;
  while (in >> kv)
    if (kv.rfind("host=", 0) != 0 && kv.rfind("port=", 0) != 0)
      out += kv + " ";
  return out + "host=" + host + " port=" + std::to_string(port);
}

/// The port of a libpq key=value `dsn` (5432 when absent).
int dsn_port(const std::string& dsn) {
  auto at = dsn.find("port=");
  return at == std::string::npos ? 5432 : std::atoi(dsn.c_str() + at + 5);
}

class ClusterTest : public ServerTest {
public:
  void SetUp() override {
    PIXELCRAFT_REQUIRE_PG();
    dsn = create_database();
    certs = "/tmp/pxcerts-" + std::to_string(::getpid());
    auto make = "bash " PIXELCRAFT_SOURCE_DIR "/scripts/cluster-certs.sh " + certs +
                " gw w1 w2 >/dev/null && bash " PIXELCRAFT_SOURCE_DIR "/scripts/cluster-certs.sh " +
                certs + "/other rogue >/dev/null";
    ASSERT_EQ(std::system(make.c_str()), 0);
    model.respond([](const nlohmann::json&) {
      fake_llm_script s;
      s.tokens = {"Step", " done", "."};
      s.token_delay = std::chrono::milliseconds(250);
      return s;
    });
  }

  void TearDown() override {
    for (auto& [name, p] : nodes)
      if (p->pid() > 0)
        p->stop();
    std::system(("rm -rf " + certs).c_str());
  }

  std::map<std::string, std::string> node_env(const std::string& name, int cluster_port,
                                              const std::string& ca_dir = "") {
    auto dir = ca_dir.empty() ? certs : ca_dir;
    return {{"DATABASE_URL", dsn},
            {"SUPABASE_JWT_SECRET", secret},
            {"OLLAMA_HOST", model.url()},
            {"LOG_LEVEL", "info"},
            {"NODE_NAME", name},
            {"CLUSTER_PORT", std::to_string(cluster_port)},
            {"CLUSTER_ADVERTISE", "127.0.0.1:" + std::to_string(cluster_port)},
            {"CLUSTER_TLS_CERT", dir + "/" + name + ".pem"},
            {"CLUSTER_TLS_KEY", dir + "/" + name + ".key"},
            {"CLUSTER_TLS_CA", dir + "/ca.pem"},
            {"WORKER_HEALTH_PORT", "0"},
            {"WORKFLOW_LEASE_S", "30"}};
  }

  server_process& start_node(const std::string& name, std::vector<std::string> args,
                             std::map<std::string, std::string> env) {
    auto& p = nodes[name];
    p = std::make_unique<server_process>();
    p->set_args(std::move(args));
    EXPECT_TRUE(p->start(env)) << name << " did not start: " << p->stderr_text();
    return *p;
  }

  void start_cluster() {
    for (auto name : {"gw", "w1", "w2"})
      ports[name] = free_port();
    start_node("gw", {"serve", "--role", "gateway"}, node_env("gw", ports["gw"]));
    start_node("w1", {"node"}, node_env("w1", ports["w1"]));
    start_node("w2", {"node"}, node_env("w2", ports["w2"]));
    ASSERT_TRUE(eventually(
        [&] {
          return peer_status("gw", "w1") == "up" && peer_status("gw", "w2") == "up" &&
                 peer_status("w1", "w2") == "up";
        },
        20))
        << health("gw").dump();
  }

  json health(const std::string& node) {
    auto r = http_call("GET", nodes[node]->base_url() + "/health");
    return json::parse(r.body, nullptr, false);
  }

  /// `peer` as `node` lists it. A restarted peer is listed twice for a while (its old
  /// incarnation `down` until its row expires): the live one counts.
  json peer_entry(const std::string& node, const std::string& peer) {
    auto h = health(node);
    if (!h.is_object() || !h.contains("node"))
      return {};
    json best;
    for (auto& p : h["node"]["peers"])
      if (p["name"] == peer && (best.is_null() || p["status"] == "up"))
        best = p;
    return best;
  }

  std::string peer_status(const std::string& node, const std::string& peer) {
    auto p = peer_entry(node, peer);
    return p.is_object() ? p["status"].get<std::string>() : std::string{};
  }

  std::string gw_url() { return nodes["gw"]->base_url(); }

  /// A peer's load as `node` sees it (from the peer's last beat); -1 when not listed.
  int peer_load(const std::string& node, const std::string& peer, const std::string& field) {
    auto p = peer_entry(node, peer);
    return p.is_object() ? p["load"][field].get<int>() : -1;
  }

  /// A chat turn through the gateway; the reply, or a `status` object when it failed.
  json chat(const std::string& message, const std::string& conversation = "") {
    json body = {{"message", message}};
    if (!conversation.empty())
      body["conversation_id"] = conversation;
    auto r = http_call("POST", gw_url() + "/api/chat/message", body.dump(),
                       {"Content-Type: application/json"});
    if (r.status != 200)
      return {{"status", r.status}, {"body", r.body}};
    return json::parse(r.body, nullptr, false);
  }

  /// The cluster's lines of a node's log.
  std::string cluster_log(const std::string& node) {
    std::string out, line;
    std::istringstream in{nodes[node]->stderr_text()};
    while (std::getline(in, line))
      if (line.find("pixelcraft.cluster") != std::string::npos)
        out += node + ": " + line + "\n";
    return out;
  }

  std::string execute(const std::vector<std::string>& agents) {
    auto r = http_call("POST", gw_url() + "/api/agents/workflows/execute",
                       json{{"workflow_type", "sequential"},
                            {"participating_agents", agents},
                            {"input_data", {{"message", "Plan a campaign."}}}}
                           .dump(),
                       {bearer(user_token()), "Content-Type: application/json"});
    EXPECT_EQ(r.status, 202) << r.body;
    return json::parse(r.body, nullptr, false).value("workflow_id", std::string{});
  }

  /// Executions by the name of the node whose lease they hold now.
  std::map<std::string, int> owners() {
    pqxx::connection c{dsn};
    pqxx::read_transaction t{c};
    std::map<std::string, int> out;
    for (auto row : t.exec("SELECT split_part(coalesce(lease_owner, '-'), ':', 1), count(*)"
                           " FROM workflow_executions WHERE completed_at IS NULL GROUP BY 1"))
      out[row[0].as<std::string>()] = row[1].as<int>();
    return out;
  }

  /// The unfinished executions and the nodes' warnings: what a failed wait prints.
  std::string stuck() {
    std::string out;
    {
      pqxx::connection c{dsn};
      pqxx::read_transaction t{c};
      for (auto row :
           t.exec("SELECT id::text, current_state, current_step, coalesce(lease_owner, '-'),"
                  " lease_epoch, coalesce(extract(epoch FROM lease_expires_at - now())::int, 0),"
                  " (SELECT count(*) FROM workflow_events e WHERE e.workflow_execution_id = w.id)"
                  " FROM workflow_executions w WHERE completed_at IS NULL"))
        out += "execution " + row[0].as<std::string>() + " " + row[1].as<std::string>() + " step " +
               row[2].as<std::string>() + " owner " + row[3].as<std::string>() + " epoch " +
               row[4].as<std::string>() + " lease " + row[5].as<std::string>() + " s, events " +
               row[6].as<std::string>() + "\n";
    }
    for (auto& [name, node] : nodes) {
      std::istringstream in{node->stderr_text()};
      std::string line;
      while (std::getline(in, line))
        if (line.find("\"level\":\"info\"") == std::string::npos)
          out += name + ": " + line.substr(0, 400) + "\n";
    }
    return out;
  }

  /// Every execution completed once: events 1..N each once, one `workflow_completed`, each of
  /// its three agents once in the path.
  void expect_each_completed_once() {
    pqxx::connection c{dsn};
    pqxx::read_transaction t{c};
    for (auto row :
         t.exec("SELECT id::text, current_state, last_event_seq,"
                " (SELECT count(*) FROM workflow_events e WHERE e.workflow_execution_id = w.id),"
                " (SELECT count(DISTINCT seq) FROM workflow_events e"
                "   WHERE e.workflow_execution_id = w.id),"
                " (SELECT count(*) FROM workflow_events e WHERE e.workflow_execution_id = w.id"
                "   AND e.event_type = 'workflow_completed'),"
                " jsonb_array_length(execution_path)"
                " FROM workflow_executions w")) {
      auto id = row[0].as<std::string>();
      EXPECT_EQ(row[1].as<std::string>(), "completed") << id;
      // Contiguous 1..N, once each; completed once; each agent ran once in the path.
      EXPECT_EQ(row[2].as<int>(), row[3].as<int>()) << id;
      EXPECT_EQ(row[3].as<int>(), row[4].as<int>()) << id;
      EXPECT_EQ(row[5].as<int>(), 1) << id << ": completed more than once";
      EXPECT_EQ(row[6].as<int>(), 3) << id;
    }
  }

  std::string certs;
  fake_llm model;
  std::map<std::string, std::unique_ptr<server_process>> nodes;
  std::map<std::string, int> ports;
};

TEST_F(ClusterTest, AKilledWorkersWorkflowsFinishOnAnotherNodeOnceAndInOrder) {
  start_cluster();
  std::vector<std::string> ids;
  for (int i = 0; i < 12; ++i)
    ids.push_back(execute({"chat", "brand_design", "content_creation"}));
  // Both workers run some (the gateway places each on the least loaded one).
  ASSERT_TRUE(eventually(
      [&] {
        auto o = owners();
        return o["w1"] > 0 && o["w2"] > 0;
      },
      10))
      << testing::PrintToString(owners());
  EXPECT_EQ(owners().count("gw"), 0u) << "a gateway runs nothing";
  // A monitor on the gateway, of an execution that w1 runs.
  std::string watched;
  {
    pqxx::connection c{dsn};
    pqxx::read_transaction t{c};
    watched = t.exec("SELECT id::text FROM workflow_executions WHERE lease_owner LIKE 'w1:%'"
                     " LIMIT 1")[0][0]
                  .as<std::string>();
  }
  // The execution names the node running it (API.md §7, v1.1), whichever node answers.
  auto seen =
      http_call("GET", gw_url() + "/api/agents/workflows/" + watched, "", {bearer(user_token())});
  ASSERT_EQ(seen.status, 200) << seen.body;
  auto node = json::parse(seen.body)["node"];
  EXPECT_TRUE(node == "w1" || node.is_null()) << seen.body; // null only if it ended meanwhile
  ws_client ws;
  ASSERT_EQ(ws.connect(nodes["gw"]->port(), "/api/ws/workflows/" + watched + "?since=0",
                       {bearer(user_token())}),
            101);
  nodes["w1"]->kill9();
  // Every execution completes, on w2 for w1's; the gateway sees w1 go.
  ASSERT_TRUE(eventually([&] { return owners().empty(); }, 60)) << stuck();
  EXPECT_NE(peer_status("gw", "w1"), "up");
  // The survivors kept their own link through w1's death.
  EXPECT_EQ(cluster_log("gw").find("link to peer lost\",\"peer\":\"w2"), std::string::npos)
      << cluster_log("gw");
  expect_each_completed_once();
  // The gateway's monitor got every event of the moved execution, in order, to its end.
  int64_t last = 0;
  bool done = false;
  while (!done) {
    auto frame = ws.next_text(5000);
    ASSERT_TRUE(frame) << "monitor stopped at seq " << last;
    auto j = json::parse(*frame);
    if (j.value("type", "") != "workflow_update")
      continue;
    ASSERT_EQ(j["seq"].get<int64_t>(), last + 1) << *frame;
    last = j["seq"];
    done = j["event_type"] == "workflow_completed";
  }
  // The worker restarts (a new incarnation under the same name) while the gateway keeps
  // answering, and takes work again.
  std::atomic<bool> restarting{true};
  std::atomic<int> answered{0}, refused{0};
  std::thread poller([&] {
    while (restarting) {
      auto r = http_call("GET", gw_url() + "/health/live", "", {}, 2000);
      ++(r.status == 200 ? answered : refused);
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  start_node("w1", {"node"}, node_env("w1", ports["w1"]));
  EXPECT_TRUE(eventually([&] { return peer_status("gw", "w1") == "up"; }, 20))
      << health("gw").dump();
  restarting = false;
  poller.join();
  EXPECT_GT(answered.load(), 0);
  EXPECT_EQ(refused.load(), 0) << "the gateway stopped answering while a worker restarted";
  for (int i = 0; i < 6; ++i)
    execute({"chat", "brand_design", "content_creation"});
  EXPECT_TRUE(eventually([&] { return owners()["w1"] > 0; }, 10))
      << "the restarted worker takes work";
  ASSERT_TRUE(eventually([&] { return owners().empty(); }, 60)) << stuck();
  expect_each_completed_once();
}

TEST_F(ClusterTest, AFrozenWorkersWorkflowsFinishElsewhereAndItRecordsNothingStale) {
  start_cluster();
  for (int i = 0; i < 8; ++i)
    execute({"chat", "brand_design", "content_creation"});
  ASSERT_TRUE(eventually([&] { return owners()["w1"] > 0; }, 10));
  // A frozen host: its connections stay up, so only the heartbeats (10 s) and its missing
  // beats in the database tell. Its executions move to w2 meanwhile.
  ::kill(nodes["w1"]->pid(), SIGSTOP);
  ASSERT_TRUE(eventually([&] { return owners().empty(); }, 40)) << stuck();
  EXPECT_NE(peer_status("gw", "w1"), "up");
  // It comes back: every save or lease renewal it still had queued is refused (the epoch moved
  // on), so nothing completes twice and no event is written after the end.
  ::kill(nodes["w1"]->pid(), SIGCONT);
  std::this_thread::sleep_for(std::chrono::seconds(4));
  expect_each_completed_once();
  EXPECT_TRUE(eventually([&] { return peer_status("gw", "w1") == "up"; }, 20))
      << "the node rejoins";
}

TEST_F(ClusterTest, ConversationsLiveOnTheWorkerTheirIdHashesToAndMoveWhenItDies) {
  // Instant answers, except a "slow" turn: three pieces 400 ms apart.
  model.respond([](const nlohmann::json& req) {
    fake_llm_script s;
    s.tokens = {"Hi", " there", "."};
    if (req.dump().find("slow") != std::string::npos)
      s.token_delay = std::chrono::milliseconds(400);
    return s;
  });
  start_cluster();
  // The home of a conversation, as every node computes it: the workers' names, hashed with it.
  auto home_of = [](const std::string& id) {
    return home_score("w1", id) > home_score("w2", id) ? "w1" : "w2";
  };
  std::vector<std::string> convs;
  std::map<std::string, int> homed;
  for (int i = 0; i < 12; ++i) {
    auto r = chat("hello number " + std::to_string(i));
    ASSERT_TRUE(r.contains("conversation_id")) << r.dump();
    EXPECT_EQ(r["response"], "Hi there.");
    convs.push_back(r["conversation_id"]);
    ++homed[home_of(convs.back())];
  }
  ASSERT_GT(homed["w1"], 0) << "12 random ids all hashed to w2";
  ASSERT_GT(homed["w2"], 0) << "12 random ids all hashed to w1";
  // Each conversation's agent actor lives on its home worker; the gateway holds none.
  auto placed = [&] {
    return peer_load("gw", "w1", "agents") == homed["w1"] &&
           peer_load("gw", "w2", "agents") == homed["w2"];
  };
  ASSERT_TRUE(eventually(placed, 10)) << health("gw").dump();
  EXPECT_EQ(health("gw")["node"]["load"]["agents"], 0);
  // A second turn of each goes to the same actor (no second home).
  for (auto& id : convs)
    ASSERT_EQ(chat("and again", id).value("response", ""), "Hi there.") << id;
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  EXPECT_TRUE(placed()) << health("gw").dump();

  // Streaming through the gateway: the model's pieces cross back from the worker as they come.
  auto streamed =
      http_stream(gw_url() + "/api/chat/stream",
                  json{{"message", "slow please"}, {"conversation_id", convs[0]}}.dump(),
                  {"Content-Type: application/json"});
  ASSERT_EQ(streamed.status, 200);
  EXPECT_EQ(streamed.body().find("event: error"), std::string::npos) << streamed.body();
  size_t chunks = 0;
  for (size_t at = 0; (at = streamed.body().find("event: chunk", at)) != std::string::npos; ++at)
    ++chunks;
  EXPECT_EQ(chunks, 3u) << streamed.body();
  EXPECT_GT(streamed.pieces.back().first - streamed.pieces.front().first,
            std::chrono::milliseconds(600))
      << "the pieces arrived together, not as the model wrote them";

  // A turn in flight on w1 when it dies fails at once, not at its deadline.
  std::vector<std::string> on_w1;
  for (auto& id : convs)
    if (home_of(id) == std::string{"w1"})
      on_w1.push_back(id);
  std::atomic<bool> first_piece{false};
  std::thread killer([&] {
    eventually([&] { return first_piece.load(); }, 10);
    nodes["w1"]->kill9();
  });
  auto started_at = std::chrono::steady_clock::now();
  auto cut = http_stream(gw_url() + "/api/chat/stream",
                         json{{"message", "slow, to be cut"}, {"conversation_id", on_w1[0]}}.dump(),
                         {"Content-Type: application/json"}, [&](const std::string& so_far) {
                           if (so_far.find("event: chunk") != std::string::npos)
                             first_piece = true;
                           return true;
                         });
  killer.join();
  EXPECT_LT(std::chrono::steady_clock::now() - started_at, std::chrono::seconds(5));
  EXPECT_NE(cut.body().find("event: error"), std::string::npos) << cut.body();

  // Its conversations continue on w2, with their history (the new actor loads it).
  for (auto& id : on_w1) {
    json r;
    ASSERT_TRUE(eventually(
        [&] {
          r = chat("still there? " + id, id);
          return r.value("response", "") == "Hi there.";
        },
        10))
        << r.dump();
  }
  bool saw_history = false;
  for (auto& req : model.requests())
    if (req.dump().find("still there? " + on_w1.back()) != std::string::npos)
      saw_history = req.dump().find("and again") != std::string::npos;
  EXPECT_TRUE(saw_history) << "the moved conversation's model call lacked its earlier turns";
  ASSERT_TRUE(eventually([&] { return peer_load("gw", "w2", "agents") == 12; }, 10))
      << health("gw").dump();
  // Deleting a conversation through the gateway ends its actor on the worker.
  auto del = http_call("DELETE", gw_url() + "/api/chat/history/" + convs[1]);
  EXPECT_EQ(del.status, 200) << del.body;
  EXPECT_TRUE(eventually([&] { return peer_load("gw", "w2", "agents") == 11; }, 10))
      << health("gw").dump();
}

TEST_F(ClusterTest, AgentMessagesThroughTheGatewayArriveOnceInOrderAndAreMirrored) {
  // A slow first step (chat), so the messages reach brand_design before its own step.
  model.respond([](const nlohmann::json&) {
    fake_llm_script s;
    s.tokens = {"Working", " on", " it."};
    s.token_delay = std::chrono::milliseconds(700);
    return s;
  });
  start_cluster();
  auto id = execute({"chat", "brand_design"});
  ASSERT_TRUE(eventually([&] { return owners()["w1"] + owners()["w2"] == 1; }, 10));
  auto marker = [](int i) { return std::string{"msg#"} + (i < 10 ? "0" : "") + std::to_string(i); };
  for (int i = 0; i < 20; ++i) {
    auto r = http_call("POST", gw_url() + "/api/agents/workflows/" + id + "/messages",
                       json{{"from_agent", "chat"},
                            {"to_agent", "brand_design"},
                            {"message_type", "notification"},
                            {"content", {{"text", marker(i)}}}}
                           .dump(),
                       {bearer(user_token()), "Content-Type: application/json"});
    ASSERT_EQ(r.status, 201) << r.body;
    EXPECT_EQ(json::parse(r.body)["status"], "delivered") << r.body;
  }
  ASSERT_TRUE(eventually([&] { return owners().empty(); }, 30)) << stuck();
  // brand_design's step saw each message once, in the order sent.
  std::string seen;
  for (auto& req : model.requests())
    if (req.dump().find(marker(0)) != std::string::npos)
      seen = req.dump();
  ASSERT_FALSE(seen.empty()) << "no model call carried the messages";
  size_t last = 0;
  for (int i = 0; i < 20; ++i) {
    auto at = seen.find(marker(i));
    ASSERT_NE(at, std::string::npos) << marker(i);
    EXPECT_GT(at, last) << marker(i) << " out of order";
    EXPECT_EQ(seen.find(marker(i), at + 1), std::string::npos) << marker(i) << " twice";
    last = at;
  }
  // Mirrored: one row each, processed by the step that saw them.
  ASSERT_TRUE(eventually(
      [&] {
        pqxx::connection c{dsn};
        pqxx::read_transaction t{c};
        return t.exec1("SELECT count(*) FILTER (WHERE status = 'processed'), count(*),"
                       " count(DISTINCT content->>'text') FROM agent_messages"
                       " WHERE workflow_execution_id = '" +
                       id + "' AND message_type = 'notification'")[0]
                   .as<int>() == 20;
      },
      10));
  pqxx::connection c{dsn};
  pqxx::read_transaction t{c};
  auto row = t.exec1("SELECT count(*), count(DISTINCT content->>'text') FROM agent_messages"
                     " WHERE workflow_execution_id = '" +
                     id + "' AND message_type = 'notification'");
  EXPECT_EQ(row[0].as<int>(), 20);
  EXPECT_EQ(row[1].as<int>(), 20);
}

TEST_F(ClusterTest, APartitionedWorkerIsFencedOutAndRejoins) {
  netns ns;
  if (!ns.ok)
    GTEST_SKIP() << "cannot create a network namespace here (needs root and ip netns)";
  // w1 lives behind the veth pair: the database and the model reach it through relays on our
  // side of the pair; every node advertises an address it can be dialled at across the pair.
  tcp_relay db_relay{ns.host_ip, dsn_port(dsn)};
  auto model_port = std::atoi(model.url().substr(model.url().rfind(':') + 1).c_str());
  tcp_relay model_relay{ns.host_ip, model_port};
  ASSERT_TRUE(db_relay.ok() && model_relay.ok());
  for (auto name : {"gw", "w1", "w2"})
    ports[name] = free_port();
  auto env_at = [&](const std::string& name, const std::string& ip) {
    auto env = node_env(name, ports[name]);
    env["CLUSTER_ADVERTISE"] = ip + ":" + std::to_string(ports[name]);
    return env;
  };
  start_node("gw", {"serve", "--role", "gateway"}, env_at("gw", ns.host_ip));
  start_node("w2", {"node"}, env_at("w2", ns.host_ip));
  auto w1_env = env_at("w1", ns.ns_ip);
  w1_env["DATABASE_URL"] = dsn_via(dsn, ns.host_ip, db_relay.port());
  w1_env["OLLAMA_HOST"] = "http://" + ns.host_ip + ":" + std::to_string(model_relay.port());
  auto& w1 = nodes["w1"];
  w1 = std::make_unique<server_process>();
  // w1 stops before the relays close (this guard ends first): its database connections end
  // cleanly rather than breaking under a process that is shutting down.
  struct stop_before_relays {
    std::unique_ptr<server_process>& p;
    ~stop_before_relays() {
      if (p && p->pid() > 0)
        p->stop();
    }
  } stop_w1{w1};
  w1->set_binary("/usr/sbin/ip");
  w1->set_args({"netns", "exec", ns.name, server_process::default_binary(), "node"});
  ASSERT_TRUE(w1->start(w1_env)) << w1->stderr_text();
  ASSERT_TRUE(eventually(
      [&] {
        return peer_status("gw", "w1") == "up" && peer_status("gw", "w2") == "up" &&
               peer_status("w2", "w1") == "up";
      },
      20))
      << health("gw").dump() << cluster_log("w1");
  for (int i = 0; i < 8; ++i)
    execute({"chat", "brand_design", "content_creation"});
  ASSERT_TRUE(eventually([&] { return owners()["w1"] > 0; }, 10))
      << testing::PrintToString(owners());
  // The cut: w1 keeps running, but reaches neither its peers nor the database. Its executions
  // resume on w2 once its beats stop.
  ASSERT_TRUE(ns.set_link(false));
  ASSERT_TRUE(eventually([&] { return owners().empty(); }, 40)) << stuck();
  EXPECT_NE(peer_status("gw", "w1"), "up");
  EXPECT_EQ(peer_status("gw", "w2"), "up") << "the cut cost the others their link";
  // The link comes back: whatever w1 still had under way is refused (the epoch moved on), it
  // links again, and nothing completed twice.
  ASSERT_TRUE(ns.set_link(true));
  EXPECT_TRUE(eventually([&] { return peer_status("gw", "w1") == "up"; }, 90))
      << health("gw").dump() << cluster_log("w1");
  expect_each_completed_once();
  // The cluster carries on with the node back.
  execute({"chat", "brand_design", "content_creation"});
  ASSERT_TRUE(eventually([&] { return owners().empty(); }, 30)) << stuck();
  expect_each_completed_once();
}

TEST_F(ClusterTest, NodesOfAnotherCaOrWireVersionAreRefused) {
  start_cluster();
  // A node whose certificate another CA signed (it trusts only its own CA): it beats in the
  // database, but no link is ever made, in either direction.
  auto rogue_port = free_port();
  start_node("rogue", {"node"}, node_env("rogue", rogue_port, certs + "/other"));
  // A node of another build (its wire version differs): listed, never dialled.
  {
    pqxx::connection c{dsn};
    pqxx::work w{c};
    w.exec("INSERT INTO cluster_nodes (incarnation, name, role, host, port, wire_version)"
           " VALUES (gen_random_uuid(), 'old-build', 'worker', '127.0.0.1', 1, 999)");
    w.commit();
  }
  std::this_thread::sleep_for(std::chrono::seconds(6));
  EXPECT_NE(peer_status("gw", "rogue"), "up");
  EXPECT_NE(peer_status("rogue", "gw"), "up");
  EXPECT_EQ(peer_status("gw", "old-build"), "down");
  // The cluster itself carries on: the strangers' failed handshakes cost the others no link
  // (app/openssl_error_queue.cpp).
  EXPECT_EQ(peer_status("gw", "w1"), "up") << cluster_log("gw") << cluster_log("w1");
  EXPECT_EQ(cluster_log("gw").find("link to peer lost"), std::string::npos) << cluster_log("gw");
  EXPECT_EQ(cluster_log("w1").find("link to peer lost"), std::string::npos) << cluster_log("w1");
  // The side that dials (the smaller incarnation) reports the refused handshake.
  EXPECT_TRUE(cluster_log("gw").find("cannot link to peer") != std::string::npos ||
              cluster_log("rogue").find("cannot link to peer") != std::string::npos)
      << cluster_log("gw") << cluster_log("rogue");
  // And work placed through the gateway never lands on them.
  auto id = execute({"chat"});
  ASSERT_TRUE(eventually([&] { return owners().empty(); }, 30)) << stuck();
  pqxx::connection c{dsn};
  pqxx::read_transaction t{c};
  EXPECT_EQ(t.exec1("SELECT current_state FROM workflow_executions WHERE id = '" + id + "'")[0]
                .as<std::string>(),
            "completed");
}

TEST_F(ClusterTest, BadTlsFilesStopStartUpNamingTheVariable) {
  auto port = free_port();
  struct bad_case {
    std::string var, value, expect;
  };
  auto other_key = certs + "/other/rogue.key";
  for (const auto& c : std::vector<bad_case>{
           {"CLUSTER_TLS_KEY", other_key, "CLUSTER_TLS_KEY: does not match"},
           {"CLUSTER_TLS_CERT", certs + "/missing.pem", "CLUSTER_TLS_CERT: cannot load"},
           {"CLUSTER_TLS_CA", certs + "/other/ca.pem", "CLUSTER_TLS_CERT: not valid under"},
           {"CLUSTER_TLS_CA", "", "CLUSTER_TLS_CA: required with CLUSTER_PORT"}}) {
    auto env = node_env("w1", port);
    env[c.var] = c.value;
    server_process p;
    p.set_args({"node"});
    EXPECT_FALSE(p.start(env, 10)) << c.var;
    EXPECT_EQ(p.exit_code(), 2) << c.var;
    EXPECT_NE(p.stderr_text().find(c.expect), std::string::npos) << p.stderr_text();
  }
  // An encrypted key with a wrong passphrase fails at start, not at the first connection.
  ASSERT_EQ(
      std::system(("KEY_PASSPHRASE=right bash " PIXELCRAFT_SOURCE_DIR "/scripts/cluster-certs.sh " +
                   certs + " locked >/dev/null")
                      .c_str()),
      0);
  auto env = node_env("locked", port);
  env["CLUSTER_TLS_PASSPHRASE"] = "wrong";
  server_process p;
  p.set_args({"node"});
  EXPECT_FALSE(p.start(env, 10));
  EXPECT_EQ(p.exit_code(), 2);
  EXPECT_NE(p.stderr_text().find("CLUSTER_TLS_KEY: cannot load"), std::string::npos)
      << p.stderr_text();
  env["CLUSTER_TLS_PASSPHRASE"] = "right";
  EXPECT_TRUE(p.start(env, 10)) << p.stderr_text();
  p.stop();
}

} // namespace
} // namespace pixelcraft::test
