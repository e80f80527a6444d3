#include "actors/log.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace pixelcraft;

TEST(LogTest, WritesOneJsonObjectPerLine) {
  std::vector<std::string> lines;
  log::set_sink([&](const std::string& l) { lines.push_back(l); });
  log::info("pixelcraft.test", "hello \"world\"\n",
            {{"n", 3}, {"ok", true}, {"ms", 1.5}, {"text", "a\tb"}});
  log::set_level(log::level::warn);
  log::info("pixelcraft.test", "dropped");
  log::set_level(log::level::info);
  log::set_sink({});
  ASSERT_EQ(lines.size(), 1u);
  ASSERT_EQ(lines[0].back(), '\n');
  auto j = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(j["level"], "info");
  EXPECT_EQ(j["component"], "pixelcraft.test");
  EXPECT_EQ(j["msg"], "hello \"world\"\n");
  EXPECT_EQ(j["n"], 3);
  EXPECT_EQ(j["ok"], true);
  EXPECT_DOUBLE_EQ(j["ms"].get<double>(), 1.5);
  EXPECT_EQ(j["text"], "a\tb");
  EXPECT_EQ(j["ts"].get<std::string>().back(), 'Z');
}

TEST(LogTest, ParsesLevels) {
  log::level l;
  EXPECT_TRUE(log::parse_level("DEBUG", l));
  EXPECT_EQ(l, log::level::debug);
  EXPECT_TRUE(log::parse_level("warning", l));
  EXPECT_EQ(l, log::level::warn);
  EXPECT_FALSE(log::parse_level("verbose", l));
}
