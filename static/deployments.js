// The Deployments tab: upload an archive (or a folder packed here into a .tar.gz) in 5 MiB
// chunks with a progress bar, then open the new deployment; rows of builds still running
// update their status every second.
(function () {
  "use strict";
  const form = document.getElementById("upload-form");
  const progress = document.getElementById("upload-progress");
  const note = document.getElementById("upload-message");
  const CHUNK = Number(form.dataset.chunkSize);

  function say(text, isError) {
    note.textContent = text;
    note.className = isError ? "flash error" : "";
    note.setAttribute("role", isError ? "alert" : "status");
  }

  // -- packing a folder: ustar entries, gzipped by the browser -------------------------------
  function octal(value, length) {
    return value.toString(8).padStart(length - 1, "0") + "\0";
  }

  function header(name, size, mtime) {
    const block = new Uint8Array(512);
    const put = (text, offset) => block.set(new TextEncoder().encode(text), offset);
    let prefix = "";
    if (name.length > 100) {
      const cut = name.lastIndexOf("/", 155);
      prefix = name.slice(0, cut);
      name = name.slice(cut + 1);
    }
    put(name, 0);
    put(octal(0o644, 8), 100);
    put(octal(0, 8), 108);
    put(octal(0, 8), 116);
    put(octal(size, 12), 124);
    put(octal(mtime, 12), 136);
    put("        ", 148);
    put("0", 156);
    put("ustar\u000000", 257);
    put(prefix, 345);
    const sum = block.reduce((total, byte) => total + byte, 0);
    put(octal(sum, 7) + " ", 148);
    return block;
  }

  async function packFolder(files) {
    const parts = [];
    for (const file of files) {
      const path = (file.webkitRelativePath || file.name).split("/").slice(1).join("/") || file.name;
      const mtime = Math.floor((file.lastModified || Date.now()) / 1000);
      parts.push(header(path, file.size, mtime), file);
      const pad = (512 - (file.size % 512)) % 512;
      if (pad) parts.push(new Uint8Array(pad));
    }
    parts.push(new Uint8Array(1024));
    const tar = new Blob(parts);
    const gzip = tar.stream().pipeThrough(new CompressionStream("gzip"));
    return new Blob([await new Response(gzip).arrayBuffer()], { type: "application/gzip" });
  }

  async function chosenArchive() {
    const file = document.getElementById("upload-file").files[0];
    if (file) return { blob: file, name: file.name };
    const folder = document.getElementById("upload-folder").files;
    if (folder.length) {
      say("Packing " + folder.length + " files…");
      return { blob: await packFolder(folder), name: "code.tar.gz" };
    }
    return null;
  }

  // -- uploading ----------------------------------------------------------------------------
  function send(data, headers, onProgress) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      Object.entries(headers).forEach(([name, value]) => xhr.setRequestHeader(name, value));
      xhr.upload.onprogress = (event) => onProgress(event.loaded);
      xhr.onload = () => {
        let body = {};
        try { body = JSON.parse(xhr.responseText); } catch (error) { body = { message: xhr.statusText }; }
        (xhr.status < 300 ? resolve : reject)(body);
      };
      xhr.onerror = () => reject({ message: "The upload failed: the server could not be reached." });
      xhr.send(data);
    });
  }

  function fields(archive, start, end) {
    const data = new FormData(form);
    data.delete("code");
    data.set("activate", document.getElementById("upload-activate").checked ? "true" : "false");
    if (archive) data.set("code", archive.blob.slice(start, end), archive.name);
    return data;
  }

  async function upload(archive) {
    const size = archive ? archive.blob.size : 0;
    const headers = { Accept: "application/json" };
    let start = 0;
    let reply = null;
    do {
      const end = Math.min(start + CHUNK, size);
      if (archive && size > CHUNK) headers["Content-Range"] = `bytes ${start}-${end - 1}/${size}`;
      const offset = start;
      reply = await send(fields(archive, start, end), headers, (loaded) => {
        progress.value = size ? Math.round(((offset + loaded) / size) * 100) : 0;
      });
      if (reply.$id) headers["X-Appwrite-ID"] = reply.$id;
      start = end;
    } while (start < size);
    return reply;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = document.getElementById("upload-button");
    button.setAttribute("aria-busy", "true");
    button.disabled = true;
    try {
      const archive = await chosenArchive();
      progress.hidden = false;
      progress.value = 0;
      say("Uploading…");
      const reply = await upload(archive);
      progress.value = 100;
      say("Uploaded: building…");
      window.location.assign(reply.url);
    } catch (error) {
      say(error.message || String(error), true);
      progress.hidden = true;
    } finally {
      button.removeAttribute("aria-busy");
      button.disabled = false;
    }
  });

  // -- rows of builds still running ---------------------------------------------------------
  function watch(row) {
    const cell = row.querySelector(".deployment-status mark");
    const tick = async () => {
      try {
        const data = await (await fetch(row.dataset.statusUrl)).json();
        cell.textContent = data.status;
        cell.className = "status status-" + data.status;
        row.querySelector(".deployment-duration").textContent = data.buildDuration + " s";
        if (data.final) return;
      } catch (error) {
        // keep trying
      }
      window.setTimeout(tick, 1000);
    };
    window.setTimeout(tick, 1000);
  }

  document.querySelectorAll("tr[data-status-url]").forEach(watch);
})();
