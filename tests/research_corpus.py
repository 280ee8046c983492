"""A small software-bus corpus in C that the research tests (agent, panel) are asked about, with
the lines their citations must land on."""

SEND_C = """\
/* Software bus: sending a message to every pipe subscribed to its id */
#include "sb_config.h"

int CFE_SB_Send(CFE_SB_Msg_t *msg)
{
    CFE_SB_Route_t *route = CFE_SB_FindRoute(msg->id);
    if (route == NULL) {
        return CFE_SB_NO_SUBSCRIBERS;
    }
    for (int i = 0; i < route->pipe_count; i++) {
        CFE_SB_Deliver(route->pipes[i], msg);
    }
    return CFE_SUCCESS;
}

void CFE_SB_Deliver(CFE_SB_Pipe_t *pipe, CFE_SB_Msg_t *msg)
{
    if (pipe->depth >= CFE_SB_MAX_PIPE_DEPTH) {
        pipe->overflows++;
        return;
    }
    pipe->queue[pipe->depth++] = msg;
}
"""
CONFIG_H = """\
/* Limits of the software bus */
#define CFE_SB_MAX_PIPES 64
#define CFE_SB_MAX_PIPE_DEPTH 256
#define CFE_SB_MAX_DEST_PER_PKT 16
"""

LOOP_LINE = SEND_C.split("\n").index("    for (int i = 0; i < route->pipe_count; i++) {") + 1
DEPTH_LINE = CONFIG_H.split("\n").index("#define CFE_SB_MAX_PIPE_DEPTH 256") + 1
