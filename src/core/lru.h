/* SPDX-License-Identifier: MIT */
/* lru.h - an intrusive recency list, most recent first: the caches' eviction order. */
#ifndef SW_LRU_H
#define SW_LRU_H

#include <stddef.h>

struct sw_lru_node {
	struct sw_lru_node *prev, *next;
};

struct sw_lru {
	struct sw_lru_node *head, *tail;   /* head: most recently used */
};

static inline void sw_lru_unlink(struct sw_lru *l, struct sw_lru_node *n)
{
	if (n->prev)
		n->prev->next = n->next;
	else
		l->head = n->next;
	if (n->next)
		n->next->prev = n->prev;
	else
		l->tail = n->prev;
	n->prev = n->next = NULL;
}

/* n becomes the most recent. */
static inline void sw_lru_push(struct sw_lru *l, struct sw_lru_node *n)
{
	n->prev = NULL;
	n->next = l->head;
	if (l->head)
		l->head->prev = n;
	l->head = n;
	if (!l->tail)
		l->tail = n;
}

#endif
