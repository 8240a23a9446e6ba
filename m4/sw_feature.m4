# SPDX-License-Identifier: MIT
dnl sw_feature.m4 - one macro per optional compile unit of swerver.
dnl
dnl SW_FEATURE(NAME, DESCRIPTION, PKG-CONFIG-MODULES, DEBIAN-PACKAGES, [KIND])
dnl
dnl An empty PKG-CONFIG-MODULES means the feature needs no library.
dnl Adds --enable-NAME/--disable-NAME, or with KIND "with" (a unit that is
dnl an outside library's integration, as autoconf has it: systemd)
dnl --with-NAME/--without-NAME.  The default ("auto") turns the feature on
dnl when every pkg-config module is found.  An explicit --enable-NAME
dnl (--with-NAME) with a missing library is an error naming the Debian
dnl packages to install.  Sets:
dnl   ENABLE_<NAME>      AM_CONDITIONAL selecting the feature's sources
dnl   HAVE_<NAME>        config.h define
dnl   <NAME>_CFLAGS/LIBS from PKG_CHECK_MODULES
dnl   SW_MODULES         space-separated list of enabled modules, which
dnl                      the build turns into the module registry
dnl   SW_CONFIGURE_SWITCHES  the switches as `swerver -V` prints them
AC_DEFUN([SW_FEATURE], [
m4_pushdef([SW_VAR], m4_translit([$1], [-], [_]))dnl
m4_pushdef([SW_UC], m4_toupper(m4_translit([$1], [-], [_])))dnl
m4_pushdef([SW_ON], m4_if([$5], [with], [with], [enable]))dnl
m4_pushdef([SW_OFF], m4_if([$5], [with], [without], [disable]))dnl
m4_if([$5], [with],
[AC_ARG_WITH([$1],
  [AS_HELP_STRING([--with-$1], [$2 (default: when $3 is found)])],
  [], [with_[]SW_VAR[]=auto])],
[AC_ARG_ENABLE([$1],
  [AS_HELP_STRING([--enable-$1], [$2 (default: on when $3 is found)])],
  [], [enable_[]SW_VAR[]=auto])])
sw_want=$[]SW_ON[]_[]SW_VAR
sw_have=no
AS_IF([test "x$sw_want" != xno], [
m4_ifblank([$3], [sw_have=yes], [
  PKG_CHECK_MODULES(SW_UC, [$3], [sw_have=yes], [sw_have=no])
  AS_IF([test "x$sw_have" = xno && test "x$sw_want" = xyes],
    [AC_MSG_ERROR([--SW_ON-$1 needs $3, which pkg-config did not find.
On Debian install it with: apt-get install $4])])
])])
AM_CONDITIONAL([ENABLE_]SW_UC, [test "x$sw_have" = xyes])
AS_IF([test "x$sw_have" = xyes], [
  AC_DEFINE([HAVE_]SW_UC, [1], [Define to 1 when $2 is compiled in.])
  SW_MODULES="$SW_MODULES SW_VAR"
  SW_CONFIGURE_SWITCHES="$SW_CONFIGURE_SWITCHES --SW_ON-$1"
], [
  SW_CONFIGURE_SWITCHES="$SW_CONFIGURE_SWITCHES --SW_OFF-$1"
])
AC_MSG_CHECKING([whether to build $2])
AC_MSG_RESULT([$sw_have])
m4_popdef([SW_OFF])dnl
m4_popdef([SW_ON])dnl
m4_popdef([SW_UC])dnl
m4_popdef([SW_VAR])dnl
])
