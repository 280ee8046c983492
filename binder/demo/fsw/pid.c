/*
 * pid.c - PID controller for the reaction-wheel speed loop.
 *
 * REQ-101: gains are non-negative and finite; invalid gains are refused, the old ones kept.
 * REQ-102: the derivative acts on the measurement, not on the error, so a setpoint step does
 *          not kick the actuator ("derivative kick").
 * REQ-103: the command is clamped to [out_min, out_max].
 * REQ-104: anti-windup: the integrator does not grow while the output is saturated in the
 *          direction of the error (conditional integration), and is itself bounded.
 * REQ-105: a non-positive or non-finite dt leaves the state unchanged and returns the last
 *          safe command (0 before the first valid update).
 */
#include "pid.h"

#include <math.h>
#include <stddef.h>

static double clamp(double value, double lo, double hi)
{
    if (value < lo) {
        return lo;
    }
    if (value > hi) {
        return hi;
    }
    return value;
}

static bool gains_valid(double kp, double ki, double kd)
{
    return isfinite(kp) && isfinite(ki) && isfinite(kd) && kp >= 0.0 && ki >= 0.0 &&
           kd >= 0.0;
}

pid_status_t pid_init(pid_ctrl_t *pid, double kp, double ki, double kd, double out_min,
                      double out_max)
{
    if (pid == NULL) {
        return PID_ERR_NULL;
    }
    if (!(out_min < out_max)) {
        return PID_ERR_LIMITS;
    }
    if (!gains_valid(kp, ki, kd)) {
        return PID_ERR_GAINS;
    }
    pid->kp = kp;
    pid->ki = ki;
    pid->kd = kd;
    pid->out_min = out_min;
    pid->out_max = out_max;
    pid->d_alpha = 0.2; /* TODO(mrivera, FSW-31): take the filter constant from the table */
    pid_reset(pid);
    return PID_OK;
}

pid_status_t pid_set_gains(pid_ctrl_t *pid, double kp, double ki, double kd)
{
    if (pid == NULL) {
        return PID_ERR_NULL;
    }
    if (!gains_valid(kp, ki, kd)) {
        return PID_ERR_GAINS; /* REQ-101: keep the old gains */
    }
    /* FIXME(jchen): bumpless transfer - rescale the integrator when ki changes (FSW-33) */
    pid->kp = kp;
    pid->ki = ki;
    pid->kd = kd;
    return PID_OK;
}

void pid_reset(pid_ctrl_t *pid)
{
    if (pid == NULL) {
        return;
    }
    pid->integrator = 0.0;
    pid->prev_measurement = 0.0;
    pid->d_filtered = 0.0;
    pid->last_output = 0.0;
    pid->first_update = true;
    pid->saturated = false;
}

double pid_update(pid_ctrl_t *pid, double setpoint, double measurement, double dt)
{
    if (pid == NULL) {
        return 0.0;
    }
    if (!(dt > 0.0) || !isfinite(dt) || !isfinite(measurement) || !isfinite(setpoint)) {
        return pid->last_output; /* REQ-105: hold the last command */
    }

    const double error = setpoint - measurement;

    /* REQ-102: derivative on measurement, low-pass filtered */
    double derivative = 0.0;
    if (!pid->first_update) {
        const double raw = -(measurement - pid->prev_measurement) / dt;
        pid->d_filtered += pid->d_alpha * (raw - pid->d_filtered);
        derivative = pid->d_filtered;
    }
    pid->prev_measurement = measurement;
    pid->first_update = false;

    const double p_term = pid->kp * error;
    const double d_term = pid->kd * derivative;
    const double candidate = pid->integrator + pid->ki * error * dt;
    const double unclamped = p_term + candidate + d_term;

    /* REQ-104: integrate only if that does not push further into saturation */
    const bool high = unclamped > pid->out_max && error > 0.0;
    const bool low = unclamped < pid->out_min && error < 0.0;
    if (!high && !low) {
        pid->integrator = clamp(candidate, pid->out_min, pid->out_max);
    }

    const double output = p_term + pid->integrator + d_term;
    const double command = clamp(output, pid->out_min, pid->out_max); /* REQ-103 */
    pid->saturated = command != output;
    pid->last_output = command;
    return command;
}
