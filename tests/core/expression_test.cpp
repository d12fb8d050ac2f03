// Expression: values, constants, time dependence, and errors that name where the text came from.
#include "fluxion/core/expression.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "fluxion/core/error.hpp"

namespace fluxion {
namespace {

TEST(Expression, EvaluatesFormulasOfXYZT) {
  Expression e("1 + sin(pi*x)*y - z^2 + 2*t", "test");
  EXPECT_DOUBLE_EQ(e(0.5, 2.0, 3.0, 0.25), 1 + std::sin(M_PI * 0.5) * 2.0 - 9.0 + 0.5);
  EXPECT_FALSE(e.is_constant());
  EXPECT_FALSE(e.is_time_independent());
  Expression c("2*pi", "test");
  EXPECT_TRUE(c.is_constant());
  EXPECT_DOUBLE_EQ(c.value(), 2 * M_PI);
  EXPECT_TRUE(Expression("x", "test").is_time_independent());
}

TEST(Expression, CopiesEvaluateIndependently) {
  Expression a("x + y", "test");
  Expression b = a;
  EXPECT_DOUBLE_EQ(a(1, 2), 3.0);
  EXPECT_DOUBLE_EQ(b(5, 5), 10.0);
  EXPECT_DOUBLE_EQ(a(1, 2), 3.0);
}

TEST(Expression, ErrorsNameTheLocation) {
  try {
    Expression("1 + sin(x", "cfg.yaml:7: problem.k");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("cfg.yaml:7: problem.k"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("1 + sin(x"), std::string::npos) << e.what();
  }
  EXPECT_THROW(Expression("w + 1", "here"), ConfigError);  // unknown variable
  EXPECT_THROW(Expression("", "here"), ConfigError);
  EXPECT_THROW(Expression("1/0", "here"), ConfigError);    // a constant that is not finite
}

}  // namespace
}  // namespace fluxion
