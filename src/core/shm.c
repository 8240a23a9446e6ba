/* shm.c - the shared counter block, mapped once by the master before fork. */
#include <config.h>

#include <stdarg.h>
#include <stdio.h>

#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
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
	sw_ticket_keys_rotate(&shm->tickets);
	memcpy(shm->tickets.previous, shm->tickets.current, SW_TICKET_KEY_LEN);
	return shm;
}

void sw_ticket_keys_rotate(struct sw_ticket_keys *k)
{
	uint8_t fresh[SW_TICKET_KEY_LEN];

	/* getrandom cannot fail for 80 bytes once the pool is ready (it blocks until then). */
	if (getrandom(fresh, sizeof(fresh), 0) != (ssize_t)sizeof(fresh))
		return;
	__atomic_add_fetch(&k->seq, 1, __ATOMIC_ACQ_REL);
	memcpy(k->previous, k->current, SW_TICKET_KEY_LEN);
	memcpy(k->current, fresh, SW_TICKET_KEY_LEN);
	__atomic_add_fetch(&k->seq, 1, __ATOMIC_ACQ_REL);
}

void sw_ticket_keys_read(const struct sw_ticket_keys *k, uint8_t current[SW_TICKET_KEY_LEN],
			 uint8_t previous[SW_TICKET_KEY_LEN])
{
	uint64_t before, after;

	do {
		before = __atomic_load_n(&k->seq, __ATOMIC_ACQUIRE);
		memcpy(current, k->current, SW_TICKET_KEY_LEN);
		memcpy(previous, k->previous, SW_TICKET_KEY_LEN);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		after = __atomic_load_n(&k->seq, __ATOMIC_ACQUIRE);
	} while ((before & 1) || before != after);
}

void sw_shm_destroy(struct sw_shm *shm)
{
	if (shm)
		munmap(shm, sizeof(*shm));
}

void sw_shm_set_outcome(struct sw_shm *shm, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(shm->last_reload, sizeof(shm->last_reload), fmt, ap);
	va_end(ap);
}
