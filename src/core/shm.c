/* shm.c - the shared counter block, mapped once by the master before fork. */
#include <config.h>

#include <sys/mman.h>
#include <time.h>
#include "core/shm.h"

struct sw_shm *sw_shm_create(void)
{
	struct sw_shm *shm = mmap(NULL, sizeof(*shm), PROT_READ | PROT_WRITE,
				  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shm == MAP_FAILED)
		return NULL;
	/* Anonymous mappings are zero-filled. */
	shm->started_at = (uint64_t)time(NULL);
	shm->generation = 1;
	return shm;
}

void sw_shm_destroy(struct sw_shm *shm)
{
	if (shm)
		munmap(shm, sizeof(*shm));
}
