// Microphone -> WAV in the page: raw samples through Web Audio, encoded as 16-bit PCM, so the server
// decodes the recording with the same audio code as any uploaded .wav (no browser-specific codecs).

function encodeWav(chunks, sampleRate) {
  const length = chunks.reduce((n, c) => n + c.length, 0);
  const buffer = new ArrayBuffer(44 + length * 2);
  const view = new DataView(buffer);
  const ascii = (offset, text) => { for (let i = 0; i < text.length; i += 1) view.setUint8(offset + i, text.charCodeAt(i)); };
  ascii(0, "RIFF");
  view.setUint32(4, 36 + length * 2, true);
  ascii(8, "WAVE");
  ascii(12, "fmt ");
  view.setUint32(16, 16, true);          // fmt chunk size
  view.setUint16(20, 1, true);           // PCM
  view.setUint16(22, 1, true);           // mono
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * 2, true);
  view.setUint16(32, 2, true);
  view.setUint16(34, 16, true);
  ascii(36, "data");
  view.setUint32(40, length * 2, true);
  let offset = 44;
  for (const chunk of chunks) {
    for (let i = 0; i < chunk.length; i += 1, offset += 2) {
      const s = Math.max(-1, Math.min(1, chunk[i]));
      view.setInt16(offset, s < 0 ? s * 0x8000 : s * 0x7fff, true);
    }
  }
  return new Blob([buffer], { type: "audio/wav" });
}

/**
 * Start recording from the default microphone.
 * @param {{maxSeconds?: number, onTick?: (seconds: number) => void}} options
 * @returns {Promise<{stop: () => void, done: Promise<File|null>}>} `done` resolves with a WAV File
 *   (null when nothing was captured) once stop() is called or maxSeconds have passed.
 */
export async function recordWav({ maxSeconds = 10, onTick = () => {} } = {}) {
  const stream = await navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1, echoCancellation: false } });
  const context = new AudioContext();
  const source = context.createMediaStreamSource(stream);
  // ScriptProcessorNode is deprecated but needs no extra module file and works in every browser;
  // a few seconds of mono audio is far below where its main-thread cost matters.
  const processor = context.createScriptProcessor(4096, 1, 1);
  const chunks = [];
  let captured = 0;
  let finish;
  const done = new Promise((resolve) => { finish = resolve; });
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    processor.disconnect();
    source.disconnect();
    stream.getTracks().forEach((t) => t.stop());
    const rate = context.sampleRate;
    context.close();
    finish(captured ? new File([encodeWav(chunks, rate)], "recording.wav", { type: "audio/wav" }) : null);
  };
  processor.onaudioprocess = (event) => {
    if (stopped) return;
    chunks.push(new Float32Array(event.inputBuffer.getChannelData(0)));
    captured += event.inputBuffer.length;
    const seconds = captured / context.sampleRate;
    onTick(seconds);
    if (seconds >= maxSeconds) stop();
  };
  source.connect(processor);
  processor.connect(context.destination);   // a processor only runs while connected to the output
  return { stop, done };
}
