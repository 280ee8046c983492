/*
 * pid.h - PID controller for the reaction-wheel speed loop.
 *
 * Owner: Maria Rivera (GNC)
 * Requirements: REQ-101 .. REQ-105 (the design review note: "Design review: wheel speed loop").
 */
#ifndef FSW_PID_H
#define FSW_PID_H

#include <stdbool.h>

typedef struct {
    /* gains (REQ-101: set at init, changeable only through pid_set_gains) */
    double kp;
    double ki;
    double kd;

    /* output limits, in the actuator's units (REQ-103) */
    double out_min;
    double out_max;

    /* low-pass filter of the derivative term, 0 < alpha <= 1 (1 = no filter) */
    double d_alpha;

    /* state */
    double integrator;
    double prev_measurement;
    double d_filtered;
    double last_output; /* the last command (held on a bad dt, REQ-105) */
    bool first_update;
    bool saturated; /* the last output was clamped (telemetry FSW-12) */
} pid_ctrl_t;

typedef enum {
    PID_OK = 0,
    PID_ERR_NULL = -1,
    PID_ERR_LIMITS = -2, /* out_min >= out_max */
    PID_ERR_GAINS = -3,  /* a negative or non-finite gain */
    PID_ERR_DT = -4      /* dt <= 0 or not finite */
} pid_status_t;

pid_status_t pid_init(pid_ctrl_t *pid, double kp, double ki, double kd, double out_min,
                      double out_max);
pid_status_t pid_set_gains(pid_ctrl_t *pid, double kp, double ki, double kd);
void pid_reset(pid_ctrl_t *pid);

/* One control step: returns the actuator command, clamped to [out_min, out_max]. */
double pid_update(pid_ctrl_t *pid, double setpoint, double measurement, double dt);

#endif /* FSW_PID_H */
