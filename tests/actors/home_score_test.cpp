// Where a conversation lives in a cluster (actors/cluster/protocol.hpp `home_score`).
#include "actors/cluster/protocol.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace pixelcraft {
namespace {

std::string home(const std::vector<std::string>& nodes, const std::string& id) {
  std::string best;
  uint64_t best_score = 0;
  for (const auto& n : nodes)
    if (best.empty() || home_score(n, id) > best_score) {
      best = n;
      best_score = home_score(n, id);
    }
  return best;
}

std::string id_of(int i) {
  return "00000000-0000-4000-8000-" + std::to_string(100000000000 + i);
}

TEST(HomeScore, IsTheSameOnEveryNodeAndBuild) {
  // Pinned: a change would move every conversation of a running cluster during an upgrade.
  EXPECT_EQ(home_score("w1", "a"), 5888764509988709476ull);
  EXPECT_NE(home_score("w1", "a"), home_score("w2", "a"));
  EXPECT_NE(home_score("w1", "ab"), home_score("w1a", "b")) << "name and id are kept apart";
}

TEST(HomeScore, SpreadsConversationsEvenly) {
  std::vector<std::string> nodes{"w1", "w2", "w3"};
  std::map<std::string, int> count;
  for (int i = 0; i < 30000; ++i)
    ++count[home(nodes, id_of(i))];
  for (const auto& n : nodes)
    EXPECT_NEAR(count[n], 10000, 600) << n;
}

TEST(HomeScore, ALostNodeMovesOnlyItsOwnConversations) {
  std::vector<std::string> all{"w1", "w2", "w3"}, left{"w1", "w3"};
  int moved = 0;
  for (int i = 0; i < 5000; ++i) {
    auto before = home(all, id_of(i));
    auto after = home(left, id_of(i));
    if (before != "w2")
      EXPECT_EQ(before, after) << id_of(i);
    else
      ++moved;
  }
  EXPECT_GT(moved, 0);
}

} // namespace
} // namespace pixelcraft
