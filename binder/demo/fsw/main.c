/*
 * main.c - a host simulation of the wheel speed loop: a first-order wheel model driven by the
 * PID controller, with a telemetry frame pushed into the ring buffer every step.
 *
 * Run: make run
 */
#include <stdio.h>
#include <string.h>

#include "pid.h"
#include "ring_buffer.h"

#define STEPS 200
#define DT 0.1 /* s, the 10 Hz control task (REQ-110) */

static void pack_frame(tlm_frame_t *frame, unsigned step, double speed, double command)
{
    /* TODO(agarcia): pack engineering units as scaled int16, as the ICD says (GND-7) */
    memset(frame, 0, sizeof *frame);
    frame->bytes[0] = 0xEB; /* sync */
    frame->bytes[1] = (unsigned char)(step & 0xFFu);
    memcpy(&frame->bytes[2], &speed, sizeof speed);
    frame->bytes[10] = (unsigned char)(command * 10.0 + 128.0);
}

int main(void)
{
    pid_ctrl_t pid;
    if (pid_init(&pid, 0.02, 0.01, 0.002, -1.0, 1.0) != PID_OK) {
        fprintf(stderr, "pid_init failed\n");
        return 1;
    }
    tlm_frame_t storage[64];
    ring_buffer_t tlm;
    rb_init(&tlm, storage, 64u);

    double speed = 0.0;          /* rad/s */
    const double target = 100.0; /* rad/s */
    const double tau = 2.0;      /* s, wheel time constant */
    const double gain = 150.0;   /* rad/s per unit command */
    for (unsigned step = 0; step < STEPS; step++) {
        const double command = pid_update(&pid, target, speed, DT);
        speed += DT * (gain * command - speed) / tau;
        tlm_frame_t frame;
        pack_frame(&frame, step, speed, command);
        rb_push(&tlm, &frame);
        if (step % 20u == 0u) {
            printf("t=%5.1f s  speed=%7.2f rad/s  command=%+.3f%s\n", step * DT, speed, command,
                   pid.saturated ? "  (saturated)" : "");
        }
    }
    printf("final speed %.2f rad/s; %zu frames buffered, %u dropped\n", speed, rb_count(&tlm),
           (unsigned)tlm.overflows);
    return 0;
}
