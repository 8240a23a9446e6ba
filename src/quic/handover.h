/* SPDX-License-Identifier: MIT */
/* handover.h - packets passed between worker generations (handover.c), shared by src/quic/ only. */
#ifndef SW_QUIC_HANDOVER_H
#define SW_QUIC_HANDOVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct quic_ep;
struct quic_path;

/* Binds this worker's hand-over socket (named after tree, slot, generation) and reads it. */
void sw_quic_fwd_open(struct quic_ep *ep);
void sw_quic_fwd_close(struct quic_ep *ep);
/* SW_OK when the worker of slot and generation gen took the packet; SW_AGAIN: its queue is full. */
int sw_quic_forward(struct quic_ep *ep, unsigned slot, unsigned gen, const struct quic_path *p,
		    uint8_t ecn, const uint8_t *data, size_t len);
/* To the CID's slot, in the generation its parity bits name, nearest to ours first. */
int sw_quic_forward_by_cid(struct quic_ep *ep, const uint8_t *cid, const struct quic_path *p,
			   uint8_t ecn, const uint8_t *data, size_t len);
/* The CID names this worker's slot; and its generation bits. */
bool sw_quic_slot_cid(const struct quic_ep *ep, const uint8_t *cid, size_t len);
bool sw_quic_same_gen(const struct quic_ep *ep, const uint8_t *cid);

#endif
