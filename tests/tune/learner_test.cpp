// The learner interface: arm grids, the choose/observe protocol, determinism, and state save/load for every learner.
#include "fluxion/tune/learner.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <memory>

#include "fluxion/core/error.hpp"
#include "fluxion/tune/chebcb.hpp"
#include "fluxion/tune/state.hpp"
#include "fluxion/tune/tsallis_inf.hpp"
#include "synthetic.hpp"

namespace fluxion {
namespace {

using Factory = std::function<std::unique_ptr<OnlineLearner>(std::uint64_t seed)>;

struct Named {
  const char* name;
  Factory make;
};

std::vector<Named> adaptive_learners() {
  return {
      {"tsallis_inf", [](std::uint64_t s) { return std::make_unique<TsallisInf>(20, s); }},
      {"tsallis_inf_cb", [](std::uint64_t s) { return std::make_unique<TsallisInfCb>(20, 5, 0.0, 1.0, s); }},
      {"chebcb", [](std::uint64_t s) { return std::make_unique<ChebCb>(20, 6, 0.0, 1.0, s); }},
  };
}

/// Plays instances [begin, end) of the contextual problem; returns the arms chosen.
std::vector<int> play(OnlineLearner& learner, const test::ContextualProblem& problem, int begin, int end) {
  std::vector<int> arms;
  for (int i = begin; i < end; ++i) {
    const double c = problem.context[static_cast<std::size_t>(i)];
    const int arm = learner.choose(c);
    learner.observe(arm, c, problem.table(i, arm));
    arms.push_back(arm);
  }
  return arms;
}

const test::ContextualProblem& problem() {
  static const test::ContextualProblem p = test::ContextualProblem::make(ArmGrid(1.0, 1.95, 20), 1000, 0.2, 77);
  return p;
}

TEST(ArmGrid, PaperGridIsLinspace) {
  const ArmGrid grid(1.0, 1.95, 20);
  ASSERT_EQ(grid.size(), 20);
  EXPECT_EQ(grid[0], 1.0);
  EXPECT_EQ(grid[19], 1.95);
  for (int i = 0; i < 20; ++i) EXPECT_NEAR(grid.value(i), 1.0 + 0.05 * i, 1e-15);
  EXPECT_EQ(grid.nearest(1.61), 12);
  EXPECT_EQ(grid.nearest(-3.0), 0);
  EXPECT_EQ(ArmGrid(1.0, 2.0, 1).size(), 1);
  EXPECT_EQ(ArmGrid(std::vector<double>{1.0, 1.5, 1.8}).value(2), 1.8);
  EXPECT_THROW(grid.value(20), Error);
}

TEST(ArmGrid, BadGridsAreConfigErrors) {
  EXPECT_THROW(ArmGrid(1.0, 1.95, 0), ConfigError);
  EXPECT_THROW(ArmGrid(1.0, 1.95, -3), ConfigError);
  EXPECT_THROW(ArmGrid(1.5, 1.5, 10), ConfigError);
  EXPECT_THROW(ArmGrid(1.9, 1.0, 10), ConfigError);
  EXPECT_THROW(ArmGrid(NAN, 1.0, 10), ConfigError);
  EXPECT_THROW(ArmGrid(std::vector<double>{}), ConfigError);
  EXPECT_THROW(ArmGrid(std::vector<double>{1.0, 1.0}), ConfigError);
  EXPECT_THROW(ArmGrid(std::vector<double>{1.2, 1.1}), ConfigError);
  try {
    ArmGrid(std::vector<double>{});
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("empty"), std::string::npos) << e.what();
  }
}

TEST(FixedArm, AlwaysPlaysItsArm) {
  FixedArm fixed(20, 12);
  for (int t = 0; t < 10; ++t) {
    ASSERT_EQ(fixed.choose(0.3 * t), 12);
    fixed.observe(12, 0.3 * t, 40.0);
  }
  EXPECT_THROW(FixedArm(20, 20), ConfigError);
  EXPECT_THROW(FixedArm(20, -1), ConfigError);
  EXPECT_THROW(FixedArm(0, 0), ConfigError);
}

TEST(OnlineLearner, SameSeedSameChoicesDifferentSeedDifferentChoices) {
  for (const Named& l : adaptive_learners()) {
    auto a = l.make(42), b = l.make(42), c = l.make(43);
    const std::vector<int> ca = play(*a, problem(), 0, 500);
    EXPECT_EQ(ca, play(*b, problem(), 0, 500)) << l.name;
    EXPECT_NE(ca, play(*c, problem(), 0, 500)) << l.name;
  }
}

TEST(OnlineLearner, ProtocolViolationsAreErrors) {
  for (const Named& l : adaptive_learners()) {
    auto learner = l.make(1);
    EXPECT_THROW(learner->observe(0, 0.5, 10.0), Error) << l.name << ": observe before choose";
    const int arm = learner->choose(0.5);
    EXPECT_THROW(learner->observe((arm + 1) % 20, 0.5, 10.0), Error) << l.name << ": another arm";
    EXPECT_THROW(learner->observe(20, 0.5, 10.0), Error) << l.name;
    EXPECT_THROW(learner->observe(arm, 0.5, -1.0), Error) << l.name;
    EXPECT_THROW(learner->observe(arm, 0.5, NAN), Error) << l.name;
    EXPECT_THROW(learner->observe(arm, 0.5, INFINITY), Error) << l.name;
    if (learner->name() != "tsallis_inf") {
      EXPECT_THROW(learner->observe(arm, 0.7, 10.0), Error) << l.name << ": another context";
    }
    EXPECT_NO_THROW(learner->observe(arm, 0.5, 10.0)) << l.name;
    EXPECT_THROW(learner->observe(arm, 0.5, 10.0), Error) << l.name << ": observed twice";
  }
}

TEST(OnlineLearner, SaveLoadContinuesExactlyAsAnUninterruptedRun) {
  for (const Named& l : adaptive_learners()) {
    auto uninterrupted = l.make(5);
    auto first = l.make(5);
    const std::vector<int> head = play(*uninterrupted, problem(), 0, 400);
    ASSERT_EQ(head, play(*first, problem(), 0, 400));
    MemoryState state;
    first->save(state);
    EXPECT_EQ(state.get_string("learner"), l.name);
    auto resumed = l.make(999);  // the generator state comes from the file, not the seed
    resumed->load(state);
    EXPECT_EQ(play(*uninterrupted, problem(), 400, 1000), play(*resumed, problem(), 400, 1000)) << l.name;
  }
}

TEST(OnlineLearner, SaveLoadBetweenChooseAndObserveKeepsThePendingChoice) {
  for (const Named& l : adaptive_learners()) {
    auto a = l.make(6), b = l.make(6);
    play(*a, problem(), 0, 100);
    play(*b, problem(), 0, 100);
    const double c = problem().context[100];
    const int arm = a->choose(c);
    ASSERT_EQ(arm, b->choose(c));
    MemoryState state;
    b->save(state);
    auto resumed = l.make(1);
    resumed->load(state);
    a->observe(arm, c, problem().table(100, arm));
    resumed->observe(arm, c, problem().table(100, arm));
    EXPECT_EQ(play(*a, problem(), 101, 400), play(*resumed, problem(), 101, 400)) << l.name;
  }
}

TEST(OnlineLearner, LoadingAnotherLearnerTypeIsAnIoErrorNamingBoth) {
  TsallisInf tsallis(20, 1);
  MemoryState state;
  tsallis.save(state);
  ChebCb cheb(20, 6, 0.0, 1.0, 1);
  try {
    cheb.load(state);
    FAIL() << "no error";
  } catch (const IoError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("tsallis_inf"), std::string::npos) << what;
    EXPECT_NE(what.find("chebcb"), std::string::npos) << what;
  }
  FixedArm fixed(20, 3);
  EXPECT_THROW(fixed.load(state), IoError);
}

TEST(OnlineLearner, LoadingAnotherArmCountOrParameterIsAnIoError) {
  for (const Named& l : adaptive_learners()) {
    auto learner = l.make(1);
    play(*learner, problem(), 0, 50);
    MemoryState state;
    learner->save(state);
    state.put_integer("arms", 12);
    EXPECT_THROW(l.make(1)->load(state), IoError) << l.name;
  }
  MemoryState binned;
  TsallisInfCb(20, 5, 0.0, 1.0, 1).save(binned);
  EXPECT_THROW(TsallisInfCb(20, 6, 0.0, 1.0, 1).load(binned), IoError);
  EXPECT_THROW(TsallisInfCb(20, 5, 0.0, 2.0, 1).load(binned), IoError);
  MemoryState cheb;
  ChebCb(20, 6, 0.0, 1.0, 1).save(cheb);
  EXPECT_THROW(ChebCb(20, 5, 0.0, 1.0, 1).load(cheb), IoError);
  EXPECT_THROW(ChebCb(20, 6, -1.0, 1.0, 1).load(cheb), IoError);
  MemoryState fixed;
  FixedArm(20, 3).save(fixed);
  EXPECT_THROW(FixedArm(20, 4).load(fixed), IoError);
  EXPECT_NO_THROW(FixedArm(20, 3).load(fixed));
}

TEST(OnlineLearner, DamagedStateIsAnIoErrorAndLeavesTheLearnerUnchanged) {
  using Damage = std::function<void(MemoryState&)>;
  const std::vector<std::pair<const char*, Damage>> damages = {
      {"missing entry", [](MemoryState& s) { s.entries().erase(s.entries().begin()); }},
      {"non-finite value", [](MemoryState& s) {
         for (auto& [name, value] : s.entries())
           if (auto* v = std::get_if<std::vector<double>>(&value); v && !v->empty()) (*v)[0] = NAN;
       }},
      {"wrong length", [](MemoryState& s) {
         for (auto& [name, value] : s.entries())
           if (auto* v = std::get_if<std::vector<double>>(&value); v && v->size() > 1) v->pop_back();
       }},
      {"wrong kind", [](MemoryState& s) { s.put("pending_arm", std::string_view("none")); }},
      {"bad generator", [](MemoryState& s) { s.put("rng", std::string_view("not a generator")); }},
  };
  for (const Named& l : adaptive_learners()) {
    for (const auto& [what, damage] : damages) {
      auto reference = l.make(8), learner = l.make(8);
      play(*reference, problem(), 0, 200);
      play(*learner, problem(), 0, 200);
      MemoryState state;
      l.make(3)->save(state);  // a valid state of the same learner, then damaged
      damage(state);
      EXPECT_THROW(learner->load(state), IoError) << l.name << ": " << what;
      EXPECT_EQ(play(*reference, problem(), 200, 400), play(*learner, problem(), 200, 400)) << l.name << ": " << what;
    }
  }
}

TEST(MemoryState, StoresTheThreeKindsAndNamesMissingEntries) {
  MemoryState s;
  s.put("a/x", std::vector<double>{1.0, 2.0});
  s.put_integer("a/n", -4);
  s.put("a/s", std::string_view("text"));
  EXPECT_EQ(s.get_doubles("a/x"), (std::vector<double>{1.0, 2.0}));
  EXPECT_EQ(s.get_integer("a/n"), -4);
  EXPECT_EQ(s.get_string("a/s"), "text");
  EXPECT_TRUE(s.contains("a/x"));
  EXPECT_FALSE(s.contains("a/y"));
  try {
    s.get_doubles("a/y");
    FAIL();
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("a/y"), std::string::npos);
  }
  EXPECT_THROW(s.get_integer("a/x"), IoError);
  EXPECT_THROW(s.get_double("a/x"), IoError);  // two values, one expected
}

}  // namespace
}  // namespace fluxion
