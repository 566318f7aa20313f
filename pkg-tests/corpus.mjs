// @ts-check
// A small, repetitive training text made here, so a tiny model's loss falls fast.
/**
 * @param {number} [lines]
 * @returns {string}
 */
export function corpus(lines = 300) {
  const subjects = ['the cat', 'a dog', 'the bird', 'my friend'];
  const verbs = ['sees', 'likes', 'finds'];
  const objects = ['the ball.', 'a red hat.', 'the tree.'];
  const text = [];
  for (let i = 0; i < lines; i++) {
    text.push(`${subjects[i % 4]} ${verbs[i % 3]} ${objects[(i * 7) % 3]}`);
  }
  return text.join('\n') + '\n';
}
