/**
 * The baseline: a bare express 5 app (default settings) that parses the gateway's form with
 * express.urlencoded and answers a constant screen of the same size as sabatili's home menu.
 */
import express from 'express';
import { serveForBench } from './child.ts';

const SCREEN = 'CON Kénéya Sabatili\n1 Ma couverture\n2 Cotiser\n3 Mes paiements\n4 Rappels SMS\n5 Etre rappelé par UTM\n6 Langue / Kan';

const app = express();
app.use(express.urlencoded({ extended: false }));
app.post('/ussd', (req, res) => {
  if (!req.body?.sessionId) {
    res.status(400).type('text/plain').send('sessionId: is required\n');
    return;
  }
  res.type('text/plain').send(SCREEN);
});

await serveForBench(app);
