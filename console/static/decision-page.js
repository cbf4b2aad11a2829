// The decision page's "Verify in this browser": fetch the trace's proof pack and check it with
// verifier.js against the key the user pasted (remembered in this browser when asked to pin it).
import { verifyPack } from "/ui/static/verifier.js";

const form = document.getElementById("verify-form");
if (form) {
  const keyInput = document.getElementById("verifier-key");
  const pin = document.getElementById("pin-key");
  const output = document.getElementById("verify-result");
  const pinned = window.localStorage.getItem("govledger.verifierKey");
  if (pinned && !keyInput.value) { keyInput.value = pinned; pin.checked = true; }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    output.textContent = "Checking…";
    output.className = "notice";
    if (pin.checked) window.localStorage.setItem("govledger.verifierKey", keyInput.value.trim());
    else window.localStorage.removeItem("govledger.verifierKey");
    try {
      const answer = await fetch(form.dataset.pack, { credentials: "same-origin" });
      if (!answer.ok) throw new Error(`the proof pack could not be fetched (HTTP ${answer.status})`);
      const pack = await answer.json();
      const result = await verifyPack(pack, keyInput.value);
      output.replaceChildren();
      const headline = document.createElement("p");
      headline.id = "verify-headline";
      headline.textContent = result.verified
        ? `✔ Verified: all ${result.items.length - 2} entries are in the log under a checkpoint signed by this key.`
        : `✖ Not verified: ${result.firstFailure.what}: ${result.firstFailure.detail}`;
      output.appendChild(headline);
      const list = document.createElement("ul");
      for (const item of result.items) {
        const li = document.createElement("li");
        li.textContent = `${item.ok ? "✔" : "✖"} ${item.what}: ${item.detail}`;
        list.appendChild(li);
      }
      output.appendChild(list);
      output.className = result.verified ? "notice good" : "notice bad";
    } catch (error) {
      output.textContent = `✖ Not verified: ${error.message || error}`;
      output.className = "notice bad";
    }
  });
}
