; NSIS installer of the MyKey terminal (64-bit, per machine); built by scripts/windows/build.sh:
;   makensis -DVERSION=0.1.0 -DVERSION4=0.1.0.0 -DSRCDIR=<dist/mykey> -DOUTFILE=<setup.exe> -DICON=<mykey.ico> installer.nsi
; Installs the PyInstaller folder into Program Files, Start-menu entries and an uninstaller.
; An upgrade replaces the program files only. Neither the installer nor the uninstaller ever
; touches the user's data folder %LOCALAPPDATA%\MyKeyTerminal (local database, settings, the
; terminal's key, trust/ certificates): removing it is a deliberate, manual step.

Unicode true
Target amd64-unicode
!ifndef COMPRESSOR
  !define COMPRESSOR lzma ; smallest installer; zlib packs several times faster (test builds)
!endif
SetCompressor /SOLID ${COMPRESSOR}

!macro REQUIRE NAME
  !ifndef ${NAME}
    !error "define ${NAME}: makensis -DVERSION= -DVERSION4= -DSRCDIR= -DOUTFILE= -DICON= (build.sh)"
  !endif
!macroend
!insertmacro REQUIRE VERSION
!insertmacro REQUIRE VERSION4
!insertmacro REQUIRE SRCDIR
!insertmacro REQUIRE OUTFILE
!insertmacro REQUIRE ICON

!define APPNAME "MyKey Terminal"
!define REGKEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\MyKeyTerminal"

Name "${APPNAME}"
OutFile "${OUTFILE}"
InstallDir "$PROGRAMFILES64\${APPNAME}"
InstallDirRegKey HKLM "Software\MyKeyTerminal" "InstallDir"
RequestExecutionLevel admin
BrandingText "${APPNAME} ${VERSION}"

VIProductVersion "${VERSION4}"
VIFileVersion "${VERSION4}"
VIAddVersionKey /LANG=0 "ProductName" "${APPNAME}"
VIAddVersionKey /LANG=0 "ProductVersion" "${VERSION}"
VIAddVersionKey /LANG=0 "FileVersion" "${VERSION}"
VIAddVersionKey /LANG=0 "FileDescription" "${APPNAME} installer"
VIAddVersionKey /LANG=0 "CompanyName" "${APPNAME}"
VIAddVersionKey /LANG=0 "LegalCopyright" "${APPNAME}"

!include "MUI2.nsh"
!define MUI_ICON "${ICON}"
!define MUI_UNICON "${ICON}"
!define MUI_ABORTWARNING
!define MUI_FINISHPAGE_RUN "$INSTDIR\mykey.exe"

!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "Japanese"
!insertmacro MUI_LANGUAGE "English"

Section "MyKey Terminal" SecMain
  SectionIn RO
  SetShellVarContext all
  ; An upgrade: take away the previous version's program files first (no stale modules left).
  RMDir /r "$INSTDIR\_internal"
  Delete "$INSTDIR\mykey.exe"
  Delete "$INSTDIR\mykey-debug.exe"
  SetOutPath "$INSTDIR"
  File /r "${SRCDIR}/*"
  WriteUninstaller "$INSTDIR\uninstall.exe"

  CreateDirectory "$SMPROGRAMS\${APPNAME}"
  CreateShortcut "$SMPROGRAMS\${APPNAME}\${APPNAME}.lnk" "$INSTDIR\mykey.exe" "" "$INSTDIR\mykey.exe" 0
  CreateShortcut "$SMPROGRAMS\${APPNAME}\${APPNAME} 自己診断 (self-test).lnk" "$SYSDIR\cmd.exe" \
    '/k ""$INSTDIR\mykey-debug.exe" --selftest"' "$INSTDIR\mykey-debug.exe" 0
  CreateShortcut "$SMPROGRAMS\${APPNAME}\${APPNAME} アンインストール (uninstall).lnk" \
    "$INSTDIR\uninstall.exe"

  WriteRegStr HKLM "Software\MyKeyTerminal" "InstallDir" "$INSTDIR"
  WriteRegStr HKLM "${REGKEY}" "DisplayName" "${APPNAME}"
  WriteRegStr HKLM "${REGKEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKLM "${REGKEY}" "Publisher" "${APPNAME}"
  WriteRegStr HKLM "${REGKEY}" "DisplayIcon" "$INSTDIR\mykey.exe"
  WriteRegStr HKLM "${REGKEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKLM "${REGKEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKLM "${REGKEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD HKLM "${REGKEY}" "NoModify" 1
  WriteRegDWORD HKLM "${REGKEY}" "NoRepair" 1
SectionEnd

Section "Uninstall"
  SetShellVarContext all
  ; Program files only: %LOCALAPPDATA%\MyKeyTerminal (the user's data) stays.
  RMDir /r "$INSTDIR\_internal"
  Delete "$INSTDIR\mykey.exe"
  Delete "$INSTDIR\mykey-debug.exe"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"
  RMDir /r "$SMPROGRAMS\${APPNAME}"
  DeleteRegKey HKLM "${REGKEY}"
  DeleteRegKey HKLM "Software\MyKeyTerminal"
SectionEnd
