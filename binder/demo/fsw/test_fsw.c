/*
 * test_fsw.c - unit tests of the PID controller and the telemetry ring buffer.
 * Each check names the requirement it verifies (the test plan: notes/test-plan.md).
 *
 * Run: make test
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "pid.h"
#include "ring_buffer.h"

static int failures = 0;
static int checks = 0;

#define CHECK(cond, what)                                                                    \
    do {                                                                                     \
        checks++;                                                                            \
        if (!(cond)) {                                                                       \
            failures++;                                                                      \
            fprintf(stderr, "%s:%d: error: check failed: %s (%s)\n", __FILE__, __LINE__,     \
                    #cond, what);                                                            \
        }                                                                                    \
    } while (0)

static void test_pid_rejects_bad_config(void)
{
    pid_ctrl_t pid;
    CHECK(pid_init(&pid, 1.0, 0.0, 0.0, 1.0, -1.0) == PID_ERR_LIMITS, "REQ-103");
    CHECK(pid_init(&pid, -1.0, 0.0, 0.0, -1.0, 1.0) == PID_ERR_GAINS, "REQ-101");
    CHECK(pid_init(&pid, 1.0, 0.5, 0.1, -1.0, 1.0) == PID_OK, "REQ-101");
    CHECK(pid_set_gains(&pid, NAN, 0.0, 0.0) == PID_ERR_GAINS, "REQ-101");
    CHECK(pid.kp == 1.0, "REQ-101: old gains kept");
}

static void test_pid_output_clamped(void)
{
    pid_ctrl_t pid;
    pid_init(&pid, 10.0, 0.0, 0.0, -1.0, 1.0);
    CHECK(pid_update(&pid, 100.0, 0.0, 0.1) == 1.0, "REQ-103: high clamp");
    CHECK(pid.saturated, "REQ-103: saturation flagged");
    CHECK(pid_update(&pid, -100.0, 0.0, 0.1) == -1.0, "REQ-103: low clamp");
}

static void test_pid_anti_windup(void)
{
    pid_ctrl_t pid;
    pid_init(&pid, 1.0, 1.0, 0.0, -1.0, 1.0);
    for (int i = 0; i < 1000; i++) {
        (void)pid_update(&pid, 50.0, 0.0, 0.1); /* saturated for 100 s */
    }
    CHECK(pid.integrator <= 1.0, "REQ-104: integrator bounded");
    /* the error reverses: the command must leave saturation at once, not after unwinding */
    const double command = pid_update(&pid, -0.5, 0.0, 0.1);
    CHECK(command < 1.0, "REQ-104: no windup after saturation");
}

static void test_pid_no_derivative_kick(void)
{
    pid_ctrl_t pid;
    pid_init(&pid, 0.0, 0.0, 1.0, -10.0, 10.0);
    (void)pid_update(&pid, 0.0, 0.0, 0.1);
    const double command = pid_update(&pid, 5.0, 0.0, 0.1); /* setpoint step */
    CHECK(fabs(command) < 1e-12, "REQ-102: derivative on measurement");
}

static void test_pid_bad_dt_holds(void)
{
    pid_ctrl_t pid;
    pid_init(&pid, 0.5, 0.1, 0.0, -1.0, 1.0);
    const double before = pid_update(&pid, 1.0, 0.0, 0.1);
    const double integrator = pid.integrator;
    CHECK(pid_update(&pid, 1.0, 0.0, 0.0) == before, "REQ-105: dt = 0 holds the command");
    CHECK(pid_update(&pid, 1.0, 0.0, -0.1) == before, "REQ-105: dt < 0 holds the command");
    CHECK(pid.integrator == integrator, "REQ-105: state unchanged");
}

static void test_rb_fifo_and_overflow(void)
{
    tlm_frame_t storage[4];
    ring_buffer_t rb;
    CHECK(!rb_init(&rb, storage, 3u), "REQ-201: capacity must be a power of two");
    CHECK(rb_init(&rb, storage, 4u), "REQ-201");
    for (unsigned i = 0; i < 6u; i++) {
        tlm_frame_t frame;
        memset(&frame, (int)i, sizeof frame);
        rb_push(&rb, &frame);
    }
    CHECK(rb_is_full(&rb), "REQ-202");
    CHECK(rb.overflows == 2u, "REQ-202: two frames dropped");
    tlm_frame_t out;
    CHECK(rb_pop(&rb, &out) && out.bytes[0] == 2u, "REQ-202: the oldest were dropped");
    CHECK(rb_count(&rb) == 3u, "REQ-202");
    while (rb_pop(&rb, &out)) {
    }
    CHECK(out.bytes[0] == 5u, "REQ-202: the newest was kept");
    CHECK(!rb_pop(&rb, &out), "empty buffer");
}

int main(void)
{
    test_pid_rejects_bad_config();
    test_pid_output_clamped();
    test_pid_anti_windup();
    test_pid_no_derivative_kick();
    test_pid_bad_dt_holds();
    test_rb_fifo_and_overflow();
    printf("%d checks, %d failed\n", checks, failures);
    return failures == 0 ? 0 : 1;
}
