// Scalar expressions of x, y, z, t read from configs ("1 + sin(pi*x)"), evaluated with muparser.
#pragma once

#include <memory>
#include <string>

namespace fluxion {

/// A compiled expression of the variables x, y, z, t (constants pi and e are defined).
/// Construction checks the syntax and the variables used; errors are ConfigError naming `where`
/// (e.g. "cfg.yaml:12: problem.source"). Copies share nothing mutable, so each copy may be used by
/// a different thread.
/// `text` as messages quote it: whole when short, else its first 60 characters and
/// "... (N characters)", so that a 100 kB formula does not flood an error line.
std::string abbreviate(const std::string& text);

class Expression {
 public:
  Expression();  // the constant 0
  explicit Expression(std::string text, std::string where = "expression");
  static Expression constant(double value);
  Expression(const Expression& other);
  Expression& operator=(const Expression& other);
  Expression(Expression&&) noexcept;
  Expression& operator=(Expression&&) noexcept;
  ~Expression();

  double operator()(double x, double y, double z = 0.0, double t = 0.0) const;
  const std::string& text() const { return text_; }
  /// Where the text came from ("cfg.yaml:12: problem.k"; "expression" or "constant" otherwise).
  const std::string& where() const { return where_; }
  /// text(), shortened for messages (see abbreviate()).
  std::string excerpt() const;
  /// True when the text uses none of x, y, z, t: value() then gives it without evaluation cost.
  bool is_constant() const { return constant_; }
  double value() const { return value_; }
  /// True when the expression does not use t (a boundary value that never changes).
  bool is_time_independent() const { return !uses_t_; }

 private:
  struct Parser;
  std::string text_;
  std::string where_;
  bool constant_ = true;
  bool uses_t_ = false;
  double value_ = 0.0;
  std::unique_ptr<Parser> parser_;
};

}  // namespace fluxion
