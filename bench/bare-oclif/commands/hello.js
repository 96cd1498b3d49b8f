// The one command; plain JavaScript so the yardstick needs no build step of its own.
import { Command } from '@oclif/core';

export default class Hello extends Command {
  static summary = 'Print a greeting';

  async run() {
    this.log('hello');
  }
}
