/* CRC-64/NVME (polynomial 0xAD93D23594C93659, reflected, init and final
 * xor all ones; check value 0xAE8B14860A799888 for "123456789"): the CRC64
 * Azure Storage verifies as x-ms-content-crc64. Carry-less multiplication
 * (PCLMULQDQ) folds 64 bytes per step when the CPU has it, about 40 times
 * MD5's speed; slicing-by-8 tables otherwise. Thread-safe. */
#ifndef VX_CLOUD_CRC64_H
#define VX_CLOUD_CRC64_H

#include <stddef.h>
#include <stdint.h>

/* Continues `crc` (0 to start) over data[0..len). */
uint64_t vx_crc64(uint64_t crc, const void *data, size_t len);

/* Azure's text form: base64 of the 8 bytes, least significant first (as
 * the service and its SDKs write it); out holds at least 13 bytes. */
void vx_crc64_base64(uint64_t crc, char out[13]);

#endif
