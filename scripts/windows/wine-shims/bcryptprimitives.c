/*
 * bcryptprimitives.dll for the Wine 8 build prefix only (never shipped in the app or installer).
 *
 * Rust 1.78 and later take random numbers from ProcessPrng in bcryptprimitives.dll, which
 * Windows 10/11 have and Wine 8 does not, so Rust extension modules (cryptography's _rust,
 * pydantic-core) fail to load under Wine with "DLL load failed ... Module not found".
 * This shim provides ProcessPrng on top of advapi32's RtlGenRandom (SystemFunction036),
 * which Wine implements.  Built by scripts/windows/build.sh with mingw-w64.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG chunk = length > 0x10000000 ? 0x10000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID reserved)
{
    (void)instance;
    (void)reason;
    (void)reserved;
    return TRUE;
}
