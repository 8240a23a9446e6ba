# SPDX-License-Identifier: MIT
dnl sw_sanitizers.m4 - --enable-sanitizers: build everything with ASan and UBSan.
AC_DEFUN([SW_SANITIZERS], [
AC_ARG_ENABLE([sanitizers],
  [AS_HELP_STRING([--enable-sanitizers],
    [build with AddressSanitizer and UndefinedBehaviorSanitizer (default: no)])],
  [], [enable_sanitizers=no])
SANITIZER_CFLAGS=""
SANITIZER_LDFLAGS=""
AS_IF([test "x$enable_sanitizers" = xyes], [
  SANITIZER_CFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
  SANITIZER_LDFLAGS="-fsanitize=address,undefined"
  sw_save_CFLAGS=$CFLAGS
  CFLAGS="$CFLAGS $SANITIZER_CFLAGS"
  AC_MSG_CHECKING([whether $CC accepts $SANITIZER_CFLAGS])
  AC_LINK_IFELSE([AC_LANG_PROGRAM([], [])], [AC_MSG_RESULT([yes])],
    [AC_MSG_RESULT([no]); AC_MSG_ERROR([--enable-sanitizers: the compiler cannot build with ASan/UBSan])])
  CFLAGS=$sw_save_CFLAGS
  SW_CONFIGURE_SWITCHES="$SW_CONFIGURE_SWITCHES --enable-sanitizers"
])
AC_SUBST([SANITIZER_CFLAGS])
AC_SUBST([SANITIZER_LDFLAGS])
])
