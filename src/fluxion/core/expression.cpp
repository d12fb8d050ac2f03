// Expression: a muparser Parser with the variables x, y, z, t bound to its own storage.
#include "fluxion/core/expression.hpp"

#include <muParser.h>

#include <cmath>
#include <numbers>

#include "fluxion/core/error.hpp"

namespace fluxion {

struct Expression::Parser {
  mu::Parser parser;
  double x = 0.0, y = 0.0, z = 0.0, t = 0.0;

  explicit Parser(const std::string& text) {
    parser.DefineVar("x", &x);
    parser.DefineVar("y", &y);
    parser.DefineVar("z", &z);
    parser.DefineVar("t", &t);
    parser.DefineConst("pi", std::numbers::pi);
    parser.DefineConst("e", std::numbers::e);
    parser.SetExpr(text);
  }
};

Expression::Expression() : text_("0"), where_("constant") {}

Expression Expression::constant(double value) {
  Expression e;
  e.text_ = std::to_string(value);
  e.where_ = "constant";
  e.constant_ = true;
  e.value_ = value;
  return e;
}

Expression::Expression(std::string text, std::string where) : text_(std::move(text)), where_(std::move(where)) {
  if (text_.find_first_not_of(" \t") == std::string::npos)
    throw ConfigError(where_ + ": empty expression; expected a formula of x, y, z, t such as '1 + sin(pi*x)'");
  try {
    parser_ = std::make_unique<Parser>(text_);
    const auto& used = parser_->parser.GetUsedVar();  // also checks the syntax
    constant_ = used.empty();
    uses_t_ = used.count("t") > 0;
    value_ = parser_->parser.Eval();
  } catch (const mu::Parser::exception_type& e) {
    throw ConfigError(where_ + ": invalid expression '" + text_ + "': " + e.GetMsg() +
                      "; expected a formula of x, y, z, t");
  }
  if (constant_ && !std::isfinite(value_))
    throw ConfigError(where_ + ": expression '" + text_ + "' is not a finite number");
  if (constant_) parser_.reset();
}

Expression::Expression(const Expression& other)
    : text_(other.text_), where_(other.where_), constant_(other.constant_), uses_t_(other.uses_t_),
      value_(other.value_) {
  if (other.parser_) parser_ = std::make_unique<Parser>(text_);
}

Expression& Expression::operator=(const Expression& other) {
  if (this != &other) *this = Expression(other);
  return *this;
}

Expression::Expression(Expression&&) noexcept = default;
Expression& Expression::operator=(Expression&&) noexcept = default;
Expression::~Expression() = default;

double Expression::operator()(double x, double y, double z, double t) const {
  if (constant_) return value_;
  parser_->x = x;
  parser_->y = y;
  parser_->z = z;
  parser_->t = t;
  return parser_->parser.Eval();
}

}  // namespace fluxion
