#ifndef RING_BUFFER_H
#define RING_BUFFER_H

#include <stddef.h>

/**
 * A fixed-size ring buffer of telemetry samples.
 *
 * The todo list for this header is empty (prose, not a task).
 */
typedef struct {
    double data[256]; // TODO(alice, 2026-12-01, #42): make the size a parameter
    size_t head;
    size_t tail;
} ring_t;

#define RING_BANNER "XXX: placeholder banner"
#define RING_MSG "/* TODO not a comment */"

/* TODO: add ring_peek() */
static inline int ring_empty(const ring_t *r) { return r->head == r->tail; }

/* FIXME: not thread-safe. HACK: callers hold the telemetry lock */
static inline void ring_push(ring_t *r, double v)
{
    r->data[r->head++ % 256] = v;
}

#endif /* RING_BUFFER_H */
