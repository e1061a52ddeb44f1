/**
 * The backend SPI of DirtyLog Kit: what an emulator, a VMM or a kernel binding implements so
 * that the conformance suite can certify its dirty-page logging.
 *
 * <p>Start with {@link org.dirtylog.spi.DirtyLogBackend}. All ioctl-shaped calls return an
 * {@link org.dirtylog.spi.IoctlResult}; argument structs that the kernel reads from user memory
 * ({@link org.dirtylog.spi.UserDirtyLog}) are passed as user addresses so that {@code -EFAULT}
 * paths can be certified.
 */
package org.dirtylog.spi;
