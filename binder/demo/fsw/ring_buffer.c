/*
 * ring_buffer.c - telemetry FIFO (REQ-201 .. REQ-203).
 */
#include "ring_buffer.h"

#include <string.h>

bool rb_init(ring_buffer_t *rb, tlm_frame_t *storage, size_t capacity)
{
    if (rb == NULL || storage == NULL || capacity < 2u || (capacity & (capacity - 1u)) != 0u) {
        return false;
    }
    rb->slots = storage;
    rb->capacity = capacity;
    rb->head = 0u;
    rb->tail = 0u;
    rb->count = 0u;
    rb->overflows = 0u;
    return true;
}

void rb_push(ring_buffer_t *rb, const tlm_frame_t *frame)
{
    const size_t mask = rb->capacity - 1u;
    if (rb->count == rb->capacity) {
        /* REQ-202: drop the oldest, keep the newest */
        rb->tail = (rb->tail + 1u) & mask;
        rb->count--;
        rb->overflows++;
    }
    memcpy(&rb->slots[rb->head], frame, sizeof *frame);
    rb->head = (rb->head + 1u) & mask;
    rb->count++;
}

bool rb_pop(ring_buffer_t *rb, tlm_frame_t *out)
{
    if (rb->count == 0u) {
        return false;
    }
    memcpy(out, &rb->slots[rb->tail], sizeof *out);
    rb->tail = (rb->tail + 1u) & (rb->capacity - 1u);
    rb->count--;
    return true;
}

size_t rb_count(const ring_buffer_t *rb)
{
    return rb->count;
}

bool rb_is_full(const ring_buffer_t *rb)
{
    return rb->count == rb->capacity;
}

/* TODO(jchen, FSW-15): rb_peek for the downlink task's retransmit window */
