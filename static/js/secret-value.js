// Named value form: the Value field is masked while Secret is ticked, so a secret is never
// typed in the clear (the server also renders it masked and never echoes it back).

const box = document.querySelector("input[type=checkbox][name=secret]");
const value = document.querySelector("input[data-secret-value]");
if (box && value) {
  const sync = () => { value.type = box.checked ? "password" : "text"; };
  box.addEventListener("change", sync);
  sync();
}
