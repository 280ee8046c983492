/*
 * ring_buffer.h - fixed-size FIFO of telemetry frames, filled by the 10 Hz control task and
 * drained by the downlink task.
 *
 * REQ-201: no dynamic memory: the caller provides the storage.
 * REQ-202: when full, the oldest frame is overwritten and counted (overflow counter in
 *          housekeeping telemetry, FSW-14), never the newest.
 * REQ-203: single producer, single consumer; no locks (see notes/design-review-pid.md).
 */
#ifndef FSW_RING_BUFFER_H
#define FSW_RING_BUFFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TLM_FRAME_BYTES 16u

typedef struct {
    uint8_t bytes[TLM_FRAME_BYTES];
} tlm_frame_t;

typedef struct {
    tlm_frame_t *slots;
    size_t capacity; /* a power of two (the index wraps with a mask) */
    size_t head;     /* next slot to write */
    size_t tail;     /* next slot to read */
    size_t count;
    uint32_t overflows; /* frames dropped because the buffer was full (REQ-202) */
} ring_buffer_t;

/* capacity must be a power of two, >= 2; false otherwise */
bool rb_init(ring_buffer_t *rb, tlm_frame_t *storage, size_t capacity);
void rb_push(ring_buffer_t *rb, const tlm_frame_t *frame);
bool rb_pop(ring_buffer_t *rb, tlm_frame_t *out);
size_t rb_count(const ring_buffer_t *rb);
bool rb_is_full(const ring_buffer_t *rb);

#endif /* FSW_RING_BUFFER_H */
