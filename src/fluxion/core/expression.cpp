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

std::string abbreviate(const std::string& text) {
  constexpr std::size_t keep = 60;
  if (text.size() <= keep + 20) return text;  // cutting saves nothing worth the "..."
  return text.substr(0, keep) + "... (" + std::to_string(text.size()) + " characters)";
}

std::string Expression::excerpt() const { return abbreviate(text_); }

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
    // muparser's message quotes the offending token, which may be most of a long text.
    std::string what = e.GetMsg();
    if (const std::string& token = e.GetToken(); token.size() > 80)
      if (const auto at = what.find(token); at != std::string::npos) what.replace(at, token.size(), abbreviate(token));
    throw ConfigError(where_ + ": invalid expression '" + excerpt() + "': " + what +
                      "; expected a formula of x, y, z, t");
  }
  if (constant_ && !std::isfinite(value_))
    throw ConfigError(where_ + ": expression '" + excerpt() + "' is not a finite number");
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
