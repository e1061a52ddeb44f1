package org.dirtylog.spi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class IoctlResultTests {

    @Test
    void a_non_negative_kernel_return_is_a_value() {
        IoctlResult<Integer> r = IoctlResult.ofKernelReturn(1);
        assertTrue(r.isOk());
        assertEquals(1, r.value());
        assertNull(r.errnoOrNull());
        assertEquals(1, r.kernelReturn());
    }

    @Test
    void a_negative_kernel_return_is_an_errno() {
        IoctlResult<Integer> r = IoctlResult.ofKernelReturn(-14);
        assertFalse(r.isOk());
        assertEquals(Errno.EFAULT, r.errnoOrNull());
        assertEquals(-14, r.kernelReturn());
        assertThrows(IllegalStateException.class, r::value);
    }

    @Test
    void map_transforms_values_and_passes_errors_through() {
        assertEquals(4, IoctlResult.ok(2).map(x -> x * 2).value());
        IoctlResult<Integer> err = IoctlResult.err(Errno.ENOENT);
        assertEquals(Errno.ENOENT, err.map(x -> x * 2).errnoOrNull());
    }
}
