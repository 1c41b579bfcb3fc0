/* drivers/virtqueue.c as the interleaving checker (test_virtq_interleave.c) runs
 * it: every ring access through the checker's hooks (VIRTQ_MODEL). Including the
 * file also lets the checker see whether an ordering point is owed (the file's
 * own counters), which is part of the driver's state. Linked into that test
 * only, instead of libportable.a's copy. */
#define VIRTQ_MODEL 1
#include "drivers/virtqueue.c"

bool virtq_model_fence_owed(void);

bool virtq_model_fence_owed(void)
{
    return fenced_stores != shared_stores;
}
