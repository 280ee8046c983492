// kalman.cpp - attitude Kalman filter (quaternion error state, 6 states)
#include <array>
#include <string>

namespace adcs {

/// FIXME: the process noise is tuned for the old gyro
constexpr double kProcessNoise = 1e-6;

const std::string kHelp = R"(usage: kalman [options]
  // TODO: inside a raw string literal
  /* HACK: also inside it */
)";

const char* kTag = "// XXX not a comment";

class Kalman {
 public:
  // TODO: reset the covariance when the star tracker reacquires
  void predict(double dt);

  /*
     Update step.
     BUG: the innovation is not normalised
  */
  void update(const std::array<double, 3>& z);

 private:
  std::array<double, 36> P_{};  // HACK: dense 6x6, sparse would be faster
  int todo_count_ = 0;
};

void Kalman::predict(double dt) {
  (void)dt;  // TODO(alice, 2026-12-01, #42): propagate with the gyro rates
}

void Kalman::update(const std::array<double, 3>& z) {
  std::string msg = "TODO";
  char c = '/';  // a slash char: no comment starts here
  (void)z; (void)msg; (void)c; (void)todo_count_;
}

}  // namespace adcs
