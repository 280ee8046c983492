/* pid.c - discrete PID controller for the reaction wheels. */
#include <stdio.h>
#include <string.h>

#include "ring_buffer.h"

#define FIXME_COUNT 3
#define TODO_MAX 4

typedef struct {
    double kp, ki, kd, limit, integral, prev;
} pid_ctl;

static const char banner[] = "TODO: this is a string, not a comment";
static const char slashes[] = "// FIXME: still a string";
static const char block[] = "/* HACK: a string that looks like a block comment */";
static const char tag[] = {'T', 'O', 'D', 'O', '\0'};

/*
 * Anti-windup clamp for the integral term.
 * TODO: make the limits configurable per wheel
 */
static double clamp(double v, double lo, double hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

double pid_step(pid_ctl *pid, double error, double dt)
{
    // FIXME(bob): dt == 0 divides by zero below
    double deriv = (error - pid->prev) / dt;
    pid->integral = clamp(pid->integral + error * dt, -pid->limit, pid->limit);
    pid->prev = error; /* HACK */
    return pid->kp * error + pid->ki * pid->integral + pid->kd * deriv;
}

void pid_report(const pid_ctl *pid)
{
    printf("TODO: %f\n", pid->prev); /* the format string is not a task */
    printf("%s %s %s %s %d\n", banner, slashes, block, tag, TODO_MAX + FIXME_COUNT);
    /* XXX: prints to stdout; the flight build has no stdout */
}

/* BUG: pid_reset does not clear prev */
void pid_reset(pid_ctl *pid) { pid->integral = 0.0; }
