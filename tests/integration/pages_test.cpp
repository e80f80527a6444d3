// The pages for people (API.md §15) in a real browser: Debian's headless Chromium driven by
// puppeteer-core (tests/browser/pages_test.cjs) against the real server, the fake model and
// the fake vendors. Each scenario is one run of the script; its screenshots are kept in
// <build>/tests/screenshots. Without Chromium or the npm packages (scripts/web-deps.sh --dev)
// the tests are skipped, unless PIXELCRAFT_REQUIRE_BROWSER is set (the README's test command).
#include "tests/integration/policy_fixture.hpp"

#include <sys/stat.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <signal.h>
#include <sstream>
#include <thread>
#include <unistd.h>

namespace pixelcraft::test {
namespace {

const std::string web_dir = PIXELCRAFT_WEB_DIR;
const std::string source_dir = PIXELCRAFT_SOURCE_DIR;
const std::string screenshots = PIXELCRAFT_SCREENSHOT_DIR;

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

std::string chromium() {
  const char* env = std::getenv("PIXELCRAFT_CHROMIUM");
  return env && *env ? env : "/usr/bin/chromium";
}

std::string node() {
  for (const char* p : {"/usr/bin/node", "/usr/local/bin/node"})
    if (exists(p))
      return p;
  return {};
}

class PagesTest : public PolicyTest {
public:
  void SetUp() override {
    std::string missing;
    if (!exists(chromium()))
      missing = chromium();
    else if (node().empty())
      missing = "node";
    else if (!exists(web_dir + "/node_modules/puppeteer-core/package.json"))
      missing = web_dir + "/node_modules/puppeteer-core (scripts/web-deps.sh --dev)";
    if (!missing.empty()) {
      if (std::getenv("PIXELCRAFT_REQUIRE_BROWSER"))
        FAIL() << "browser tests need " << missing;
      GTEST_SKIP() << "browser tests need " << missing;
    }
    // Slow enough for a person (and the test) to see a step run: 5 tokens, 150 ms apart. A task
    // that says APPROVAL-PLEASE makes the marketing agent send a proposal to an outside
    // address, which the policy holds for a person (API.md §12); after the tool's result it
    // answers.
    model.respond([](const json& req) {
      auto text = req.dump();
      const auto& messages = req["messages"];
      bool answered = !messages.empty() && messages.back().value("role", "") == "tool";
      if (!answered && text.find("APPROVAL-PLEASE") != std::string::npos &&
          text.find("send_marketing_proposal") != std::string::npos)
        return calls(json::array({tool_call(
            "send_marketing_proposal", {{"to_email", "partner@elsewhere.example"},
                                        {"proposal_summary", "A proposal for our partner"}})}));
      fake_llm_script s;
      s.tokens = answered ? std::vector<std::string>{"Sent", "."}
                          : std::vector<std::string>{"Step", " done", " by", " the", " agent."};
      s.token_delay = std::chrono::milliseconds(150);
      return s;
    });
    PolicyTest::SetUp();
  }

  /// Runs one scenario of tests/browser/pages_test.cjs; its exit status (-1: killed after
  /// `timeout`), with its output in `output`.
  int scenario(const std::string& name, std::string& output,
               std::chrono::seconds timeout = std::chrono::seconds(120),
               std::vector<std::string> extra_env = {}) {
    ::mkdir(screenshots.c_str(), 0755);
    auto log_path = screenshots + "/" + name + ".log";
    std::vector<std::string> env_text = {
        "PIXELCRAFT_URL=" + srv.base_url(),
        "PIXELCRAFT_TOKEN=" + admin_token(),
        "PIXELCRAFT_NODE_MODULES=" + web_dir + "/node_modules",
        "PIXELCRAFT_CHROMIUM=" + chromium(),
        "PIXELCRAFT_SCREENSHOTS=" + screenshots,
        "HOME=/tmp",
        "PATH=/usr/local/bin:/usr/bin:/bin",
    };
    env_text.insert(env_text.end(), extra_env.begin(), extra_env.end());
    auto script = source_dir + "/tests/browser/pages_test.cjs";
    auto node_bin = node();
    pid_t pid = ::fork();
    if (pid == 0) {
      int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
      ::setpgid(0, 0); // its own group: a timeout kills Chromium with it
      std::vector<char*> envp;
      for (auto& e : env_text)
        envp.push_back(e.data());
      envp.push_back(nullptr);
      std::string n = name;
      char* argv[] = {node_bin.data(), script.data(), n.data(), nullptr};
      ::execve(node_bin.c_str(), argv, envp.data());
      ::_exit(127);
    }
    int status = 0, rc = -1;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      auto r = ::waitpid(pid, &status, WNOHANG);
      if (r == pid) {
        rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        break;
      }
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(-pid, SIGKILL);
        ::waitpid(pid, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    std::ifstream in{log_path};
    std::stringstream ss;
    ss << in.rdbuf();
    output = ss.str();
    return rc;
  }

  void expect_scenario(const std::string& name, std::vector<std::string> extra_env = {}) {
    std::string out;
    int rc = scenario(name, out, std::chrono::seconds(120), std::move(extra_env));
    EXPECT_EQ(rc, 0) << "scenario " << name << " (screenshots in " << screenshots << "):\n" << out;
  }
};

TEST_F(PagesTest, LandingPageShowsHealthAndLinksOnDesktopAndPhone) {
  expect_scenario("landing");
}

TEST_F(PagesTest, ConsoleStartsAWorkflowAndWatchesItsGraphLive) {
  expect_scenario("console-run");
}

TEST_F(PagesTest, ApprovalsAreDecidedInTheConsoleInbox) {
  expect_scenario("approval");
  // What the browser decided reached the vendor exactly once: the approved proposal.
  auto sent = side_effects();
  size_t to_partner = 0;
  for (auto& r : sent)
    to_partner += r.body.dump().find("partner@elsewhere.example") != std::string::npos;
  EXPECT_EQ(to_partner, 1u);
}

TEST_F(PagesTest, ConsolePausesAndResumesAWorkflow) {
  expect_scenario("pause-resume");
}

TEST_F(PagesTest, ADroppedMonitorReconnectsWithoutGapsOrRepeats) {
  expect_scenario("reconnect");
}

TEST_F(PagesTest, ConsoleStaysResponsiveThroughAThousandEvents) {
  // A finished run, then 1,000 more events stored in its middle (model output), as a long
  // collaborative run leaves them; the console replays them all when it opens the workflow.
  auto id = execute({{"workflow_type", "sequential"},
                     {"participating_agents", {"chat"}},
                     {"input_data", {{"message", "Say hello."}}}},
                    admin_token());
  ASSERT_EQ(wait_for(id, {"completed"}, admin_token())["current_state"], "completed");
  {
    pqxx::connection c{dsn};
    pqxx::work w{c};
    w.exec_params("UPDATE workflow_events SET seq = seq + 1000 WHERE workflow_execution_id ="
                  " $1::uuid AND seq > 2",
                  id);
    w.exec_params("INSERT INTO workflow_events (workflow_execution_id, seq, event_type, data)"
                  " SELECT $1::uuid, g + 2, 'output_delta',"
                  " jsonb_build_object('agent', 'chat', 'text', ' piece ' || g)"
                  " FROM generate_series(1, 1000) g",
                  id);
    w.exec_params("UPDATE workflow_executions SET last_event_seq = last_event_seq + 1000"
                  " WHERE id = $1::uuid",
                  id);
    w.commit();
  }
  expect_scenario("many-events", {"PIXELCRAFT_BIG_WORKFLOW=" + id});
}

TEST_F(PagesTest, DocsTryItSendsARealRequest) {
  expect_scenario("docs");
}

} // namespace
} // namespace pixelcraft::test
