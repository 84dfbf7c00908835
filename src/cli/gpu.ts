/** The CLI side of `--backend gpu`: what the process environment needs before a device is opened. */

/**
 * Without a display, Mesa's EGL (Dawn's OpenGL ES backend, the WebGPU path on machines whose only
 * device is llvmpipe) needs EGL_PLATFORM=surfaceless; on machines with a GPU Dawn uses Vulkan and
 * never reads it. Sets it when unset and there is no X or Wayland display; returns what it did (for
 * the log), or undefined. Must run before the gpu backend starts (native code reads the environment).
 */
export function prepareGpuEnvironment(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.EGL_PLATFORM !== undefined && env.EGL_PLATFORM !== '') return undefined;
  if ((env.DISPLAY ?? '') !== '' || (env.WAYLAND_DISPLAY ?? '') !== '') return undefined;
  env.EGL_PLATFORM = 'surfaceless';
  return 'EGL_PLATFORM=surfaceless (no display)';
}
