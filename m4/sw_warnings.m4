# SPDX-License-Identifier: MIT
dnl sw_warnings.m4 - the project's warning set; --enable-werror makes them fatal.
AC_DEFUN([SW_WARNINGS], [
AC_ARG_ENABLE([werror],
  [AS_HELP_STRING([--enable-werror], [treat compiler warnings as errors (CI uses this)])],
  [], [enable_werror=no])
WARN_CFLAGS="-Wall -Wextra -Wshadow -Wmissing-prototypes -Wstrict-prototypes -Wpointer-arith -Wformat=2 -Wno-unused-parameter"
AS_IF([test "x$enable_werror" = xyes], [WARN_CFLAGS="$WARN_CFLAGS -Werror"])
AC_SUBST([WARN_CFLAGS])
])
