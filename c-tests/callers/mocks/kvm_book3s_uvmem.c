// SPDX-License-Identifier: GPL-2.0-only
/* State behind mocks/kvm_book3s_uvmem.h (ours, not kernel code). */
#include "kvm_book3s_uvmem.h"

unsigned long mock_kvmppc_secmem_size;
